// Bundles the generative-UI files of langgraph.json's `ui` block; graphport/ui.py runs it.
// argv[2]: JSON {"cwd": dir, "out": dir, "defs": {graph_id: file}, "shared": [package, ...]}.
// Writes out/<graph_id>/entrypoint.js (and .css when the components import CSS) and prints
// {graph_id: [file names]} on stdout.
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { build } from "esbuild";
import tailwind from "esbuild-plugin-tailwindcss";

const job = JSON.parse(process.argv[2]);

// Modules the host page hands to the components (react-ui's bootstrapUiContext and
// experimental_loadShare): they stay out of the bundle and are asked for at load time
// through globalThis[Symbol.for("LGUI_REQUIRE")], so components share the page's React.
const provided = [
  "react",
  "react-dom",
  "@langchain/langgraph-sdk",
  "@langchain/langgraph-sdk/react-ui",
  ...(job.shared ?? []),
];
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const providedPattern = new RegExp(`^(${provided.map(escape).join("|")})(/.*)?$`);

function fromHostPage() {
  return {
    name: "graphport-host-modules",
    setup(b) {
      b.onResolve({ filter: providedPattern }, (args) => ({ path: args.path, namespace: "host" }));
      b.onLoad({ filter: /.*/, namespace: "host" }, (args) => ({
        loader: "js",
        contents: `module.exports = globalThis[Symbol.for("LGUI_REQUIRE")](${JSON.stringify(args.path)});`,
      }));
    },
  };
}

// The entry point: the user's file's default export (component name -> component) and
// render(name, shadowRootId), which the <script onload> of POST /ui/{graph_id} calls; it hands
// the component and a fresh element inside the shadow root to the page's component store.
function entry(userFile) {
  return {
    name: "graphport-ui-entry",
    setup(b) {
      b.onResolve({ filter: /^graphport-ui-entry$/ }, () => ({ path: userFile, namespace: "entry" }));
      b.onLoad({ filter: /.*/, namespace: "entry" }, () => ({
        resolveDir: path.dirname(userFile),
        loader: "js",
        contents: [
          `import components from ${JSON.stringify(userFile)};`,
          `export function render(name, shadowRootId) {`,
          `  const mount = document.createElement("div");`,
          `  document.getElementById(shadowRootId).shadowRoot.appendChild(mount);`,
          `  window[Symbol.for("LGUI_EXT_STORE")].respond(shadowRootId, components[name], mount);`,
          `}`,
        ].join("\n"),
      }));
    },
  };
}

async function bundle(graphId, file) {
  const userFile = path.resolve(job.cwd, file);
  const outdir = path.join(job.out, graphId);
  const result = await build({
    entryPoints: { entrypoint: "graphport-ui-entry" },
    bundle: true,
    write: false,
    outdir,
    format: "iife",
    globalName: `__LGUI_${graphId.replace(/[^a-zA-Z0-9]/g, "_")}`,
    platform: "browser",
    target: "es2020",
    jsx: "automatic",
    logLevel: "silent",
    absWorkingDir: job.cwd, // error locations relative to the project
    plugins: [tailwind(), fromHostPage(), entry(userFile)],
  });
  await fs.rm(outdir, { recursive: true, force: true });
  await fs.mkdir(outdir, { recursive: true });
  const names = [];
  for (const output of result.outputFiles) {
    await fs.writeFile(output.path, output.contents);
    names.push(path.basename(output.path));
  }
  return names;
}

const assets = {};
try {
  for (const [graphId, file] of Object.entries(job.defs)) {
    assets[graphId] = await bundle(graphId, file);
  }
} catch (err) {
  const messages = err.errors?.length
    ? err.errors.map((e) => (e.location ? `${e.location.file}:${e.location.line}:${e.location.column}: ${e.text}` : e.text))
    : [String(err?.message ?? err)];
  process.stderr.write(messages.join("\n") + "\n");
  process.exit(1);
}
process.stdout.write(JSON.stringify(assets));
