// The baseline: the smallest node:http server that answers like functions/hello.
import { createServer } from "node:http";

createServer((req, res) => {
  const name = new URL(req.url, "http://x").searchParams.get("name") ?? "world";
  res.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
  res.end(`hello, ${name}\n`);
}).listen(Number(process.env.PORT), process.env.HOST ?? "127.0.0.1");
