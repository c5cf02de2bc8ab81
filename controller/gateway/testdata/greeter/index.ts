import { defineFunction } from "skiff/runtime";

// Gateway test subject for scale-from-zero and traffic splits: answers its GREETING (set per
// revision by the test), after `?ms=N` if asked to take its time.
export default defineFunction({
  async http(req, ctx) {
    const ms = Number(new URL(req.url).searchParams.get("ms") ?? 0);
    if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
    return new Response(ctx.env.GREETING);
  },
});
