// The floor of the mandated stack: the smallest Hono app on @hono/node-server answering like
// functions/hello, with none of Skiff's runtime. The runtime suite bundles it with esbuild and
// boots it beside the others, to show what Node 20 + Hono cost before any Skiff code runs.
import { serve } from "@hono/node-server";
import { Hono } from "hono";

const app = new Hono();
app.all("*", (c) => c.text(`hello, ${c.req.query("name") ?? "world"}\n`));
serve({ fetch: app.fetch, port: Number(process.env.PORT), hostname: process.env.HOST ?? "127.0.0.1" });
