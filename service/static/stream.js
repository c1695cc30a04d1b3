/* Following a job: its event stream through EventSource, or through fetch (which can send the
   API key), each resuming with Last-Event-ID; or, on a server without the stream, polling. */

import { api, authHeaders } from "./api.js";

const RECONNECT_MS = 1000;
const POLL_MS = 500;

function dispatch(handlers, name, text) {
  const handle = handlers[name];
  if (handle) handle(JSON.parse(text));
}

/**
 * EventSource reconnects (sending Last-Event-ID) by itself, and stops at the 204 that answers
 * a client holding the final event; a stream refused from the start is unavailable.
 */
export function watchWithEventSource(url, handlers, onUnavailable) {
  const source = new EventSource(url);
  let opened = false;
  source.onopen = () => {
    opened = true;
  };
  for (const name of Object.keys(handlers)) {
    source.addEventListener(name, (event) => dispatch(handlers, name, event.data));
  }
  source.onerror = () => {
    if (!opened && source.readyState === EventSource.CLOSED) onUnavailable();
  };
  return { close: () => source.close() };
}

/** Parse an event stream from a fetch response, calling handlers; returns the last event id. */
async function readEvents(response, handlers, lastEventId) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let fields = {};
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return lastEventId;
    buffer += value;
    const lines = buffer.split("\n");
    buffer = lines.pop();
    for (const rawLine of lines) {
      const line = rawLine.replace(/\r$/, "");
      if (line === "") {
        if (fields.id !== undefined) lastEventId = fields.id;
        if (fields.data !== undefined) dispatch(handlers, fields.event || "message", fields.data);
        fields = {};
      } else if (!line.startsWith(":")) {
        const colon = line.indexOf(":");
        const key = colon < 0 ? line : line.slice(0, colon);
        fields[key] = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      }
    }
  }
}

/** The same stream read with fetch, so the API key can go along; reconnects like EventSource. */
export function watchWithFetch(url, handlers, onUnavailable) {
  const controller = new AbortController();
  let lastEventId = null;
  (async () => {
    while (!controller.signal.aborted) {
      const headers = { Accept: "text/event-stream", ...authHeaders() };
      if (lastEventId !== null) headers["Last-Event-ID"] = lastEventId;
      try {
        const response = await fetch(url, { headers, signal: controller.signal });
        // 204: this client already has the final event; the stream is over, as for EventSource.
        if (response.status === 204) return;
        if (!response.ok || !(response.headers.get("content-type") || "").startsWith("text/event-stream")) {
          onUnavailable();
          return;
        }
        lastEventId = await readEvents(response, handlers, lastEventId);
      } catch {
        if (controller.signal.aborted) return;
      }
      await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS));
    }
  })();
  return { close: () => controller.abort() };
}

/** Poll GET /jobs/{id} (and its loss figure, drawn by onLossFigure) until the job ends. */
export function watchByPolling(jobId, handlers, { onLossFigure, onError }) {
  let stopped = false;
  let timer = null;
  const path = `/jobs/${encodeURIComponent(jobId)}`;
  const tick = async () => {
    try {
      const job = await api("GET", path);
      if (stopped) return;
      const progress = { status: job.status, ...job.progress };
      try {
        onLossFigure(await api("GET", `${path}/figures/loss`));
      } catch {
        /* the curve is optional here */
      }
      if (job.status === "succeeded") handlers.succeeded({ ...progress, model_id: job.model_id });
      else if (job.status === "failed") handlers.failed({ ...progress, error: job.error });
      else if (job.status === "cancelled") handlers.cancelled(progress);
      else {
        handlers.progress(progress);
        timer = setTimeout(tick, POLL_MS);
      }
    } catch (error) {
      if (!stopped) onError(error);
    }
  };
  tick();
  return {
    close: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
