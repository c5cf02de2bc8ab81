import { defineFunction } from "skiff/runtime";

// The smallest useful function: answers every path with a greeting.
export default defineFunction({
  http(req) {
    const name = new URL(req.url).searchParams.get("name") ?? "world";
    return new Response(`hello, ${name}\n`, { headers: { "content-type": "text/plain; charset=utf-8" } });
  },
});
