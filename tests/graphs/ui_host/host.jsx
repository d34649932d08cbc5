// The host page of tests/api/test_ui_browser.py: LoadExternalComponent from the SDK, as Agent
// Chat UI uses it, rendering the component window.COMPONENT of window.GRAPH_ID.
import * as React from "react";
import { createRoot } from "react-dom/client";
import { Client } from "@langchain/langgraph-sdk";
import { LoadExternalComponent } from "@langchain/langgraph-sdk/react-ui";

// importing react-ui hands React and the component store to the bundles
const client = new Client({ apiUrl: window.API_URL });
// LoadExternalComponent reads only stream.client["~ui"] and stream.assistantId here
const stream = { client, assistantId: window.GRAPH_ID };
const message = { id: "m1", type: "ui", name: window.COMPONENT, props: { who: "graphport" } };
createRoot(document.getElementById("root")).render(
  <LoadExternalComponent stream={stream} message={message} fallback={<p>loading</p>} />
);
