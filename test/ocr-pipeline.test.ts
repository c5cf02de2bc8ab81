// The OCR pipeline deployed on the local platform, as the README shows it: the fixture image
// published on NATS runs through ocr-preprocess -> ocr-detect -> ocr-recognize (each woken
// from zero by its event), and through the `ocr` HTTP function behind the gateway.
import { CloudEvent } from "cloudevents";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { fromNatsMsg, NATS, publishEvent } from "../controller/events/index.ts";
import { connectNats } from "../controller/nats/index.ts";
import { jetstream } from "@nats-io/jetstream";
import { deploy, startTestPlatform } from "./harness/platform.ts";
import { describeWithNats } from "./harness/nats-server.ts";
import { similarity } from "./harness/similarity.ts";
import { waitFor } from "./harness/wait-for.ts";

const fn = (name: string) => fileURLToPath(new URL(`../functions/${name}`, import.meta.url));
const FIXTURE = fileURLToPath(new URL("./fixtures/ocr/sample.png", import.meta.url));
const EXPECTED = fileURLToPath(new URL("./fixtures/ocr/expected.txt", import.meta.url));

describeWithNats("OCR pipeline on the platform", () => {
  it("reads the fixture's text through the event chain and through the HTTP endpoint", { timeout: 120_000 }, async () => {
    const platform = await startTestPlatform();
    for (const name of ["ocr-preprocess", "ocr-detect", "ocr-recognize", "ocr"]) await deploy(platform.client, fn(name));
    const expected = (await readFile(EXPECTED, "utf8")).trim();
    const image = await readFile(FIXTURE);

    const nc = await connectNats(platform.natsUrl);
    const recognized: CloudEvent<unknown>[] = [];
    const sub = nc.subscribe("ocr.recognized");
    void (async () => {
      for await (const msg of sub) recognized.push(NATS.toEvent(fromNatsMsg(msg)) as CloudEvent<unknown>);
    })();
    await nc.flush();
    const event = new CloudEvent({ type: "skiff.ocr.image", source: "/tests/ocr", id: "ocr-fixture-1", datacontenttype: "image/png", data: image });
    const published = await publishEvent(jetstream(nc), nc, "ocr.images", event);
    expect(published.stored).toBe(true);
    await waitFor(() => recognized.length > 0, { what: "the recognized text on ocr.recognized", timeoutMs: 60_000 });
    const chainText = (recognized[0]!.data as { text: string }).text;
    console.log(`ocr chain: ${JSON.stringify(chainText)} (similarity ${(similarity(chainText, expected) * 100).toFixed(1)}%)`);
    expect(similarity(chainText, expected)).toBeGreaterThanOrEqual(0.9);

    const res = await fetch(`${platform.gatewayUrl}/fn/ocr/`, { method: "POST", headers: { "content-type": "image/png" }, body: image });
    expect(res.status).toBe(200);
    const httpText = ((await res.json()) as { text: string }).text;
    expect(similarity(httpText, expected)).toBeGreaterThanOrEqual(0.9);
    await nc.close();
  });
});
