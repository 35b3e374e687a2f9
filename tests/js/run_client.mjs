// Drives the official JavaScript client, @datastax/langflow-client, against a Flowless server,
// used exactly as its README shows. tests/client/test_js_client.py runs it and checks the report.
//
//   FLOWLESS_URL=http://127.0.0.1:7860 FLOWLESS_API_KEY=sk-... node run_client.mjs <hosted|oss|upload>
//
// hosted: the DataStax form. The client only takes that form for its own base URL
//   (https://api.langflow.astra.datastax.com, paths /lf/<langflowId>/api/v1/..., Bearer key),
//   so it gets a `fetch` (a documented client option) that sends those requests to FLOWLESS_URL.
// oss: open-source Langflow form: baseUrl = FLOWLESS_URL, x-api-key, /api/v1/...
// Prints one JSON object: what was asked, what came back, and the requests as sent.

import { readFile } from "node:fs/promises";

import { LangflowClient } from "@datastax/langflow-client";
import { DATASTAX_LANGFLOW_BASE_URL } from "@datastax/langflow-client/consts";
import { LangflowError } from "@datastax/langflow-client/errors";
import { FlowResponse } from "@datastax/langflow-client/flow_response";
import { fetch } from "undici";

const base = process.env.FLOWLESS_URL;
const apiKey = process.env.FLOWLESS_API_KEY;
const mode = process.argv[2] ?? "hosted";
const sent = [];

function recordingFetch(url, init) {
  const target = String(url).replace(DATASTAX_LANGFLOW_BASE_URL, base);
  const headers = init?.headers;
  sent.push({
    url: String(url),
    target,
    authorization: headers?.get?.("authorization") ?? null,
    xApiKey: headers?.get?.("x-api-key") ?? null,
  });
  return fetch(target, init);
}

function makeClient() {
  if (mode === "oss") return new LangflowClient({ baseUrl: base, apiKey, fetch: recordingFetch });
  return new LangflowClient({ langflowId: "local", apiKey, fetch: recordingFetch });
}

async function errorOf(promise) {
  try {
    await promise;
    return null;
  } catch (error) {
    return {
      name: error.constructor.name,
      isLangflowError: error instanceof LangflowError,
      status: error.cause?.status ?? null,
      message: error.message,
    };
  }
}

async function main() {
  const client = makeClient();
  const report = { mode, basePath: client.basePath };

  if (mode === "upload") {
    const file = new File([await readFile(process.argv[3])], "notes.txt", { type: "text/plain" });
    try {
      const uploaded = await client.flow(process.argv[4] ?? "echo-prompt").uploadFile(file);
      report.upload = { flowId: uploaded.flowId, filePath: uploaded.filePath };
    } catch (error) {
      report.uploadError = { message: error.message, status: error.cause?.status ?? null };
    }
    report.sent = sent;
    return report;
  }

  // run: the answer, its session, the chat text shortcut
  const flow = client.flow("echo-prompt");
  const response = await flow.run("hello from js", { session_id: "js-session" });
  report.run = { text: response.chatOutputText(), sessionId: response.sessionId, outputs: response.outputs.length };

  // tweaks, both ways the README shows: .tweak(...) and options.tweaks
  const tweaked = await flow.tweak("Prompt-ech02", { template: "Tweaked: {question}" }).run("chained");
  const tweakedByOption = await flow.run("option", { tweaks: { "Prompt-ech02": { template: "Option: {question}" } } });
  report.tweaks = { chained: tweaked.chatOutputText(), option: tweakedByOption.chatOutputText() };

  // stream: events with their arrival times (ms since the call)
  const started = Date.now();
  const events = [];
  for await (const event of await client.flow("basic-chat").stream("one two three four five six")) {
    events.push({ event: event.event, at: Date.now() - started, data: event.data });
  }
  const end = events.find((e) => e.event === "end");
  report.stream = {
    events: events.map(({ event, at, data }) => ({ event, at, chunk: data?.chunk ?? null, text: data?.text ?? null, sender: data?.sender ?? null })),
    endText: end ? new FlowResponse(end.data.result).chatOutputText() : null,
  };

  // errors: a flow that does not exist, and a wrong key
  report.missingFlow = await errorOf(client.flow("no-such-flow").run("x"));
  const badKey = mode === "oss"
    ? new LangflowClient({ baseUrl: base, apiKey: "sk-not-a-real-key-000000000000000000000000", fetch: recordingFetch })
    : new LangflowClient({ langflowId: "local", apiKey: "sk-not-a-real-key-000000000000000000000000", fetch: recordingFetch });
  report.badKey = await errorOf(badKey.flow("echo-prompt").run("x"));

  report.sent = sent;
  return report;
}

main()
  .then((report) => console.log(JSON.stringify(report)))
  .catch((error) => {
    console.error(error?.stack ?? String(error));
    process.exitCode = 1;
  });
