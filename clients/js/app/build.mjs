// Build the browser app into src/scipix/static/ (committed, so the server needs no node).
import { build } from "esbuild";
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(here, "..");
const out = join(pkg, "..", "..", "src", "scipix", "static");
const katexDist = join(pkg, "node_modules", "katex", "dist");

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "fonts"), { recursive: true });

await build({
  entryPoints: [join(here, "app.ts")],
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: true,
  legalComments: "linked",
  outfile: join(out, "app.js"),
  logLevel: "warning",
});

// KaTeX's CSS with only the woff2 fonts (every browser that runs the app reads woff2).
const css = readFileSync(join(katexDist, "katex.min.css"), "utf8").replace(
  /src:url\((fonts\/[^)]+\.woff2)\) format\("woff2"\)(,url\([^)]+\) format\("[a-z]+"\))*/g,
  'src:url($1) format("woff2")',
);
if (/\.(woff|ttf)\)/.test(css)) throw new Error("katex.min.css still references woff/ttf fonts");
writeFileSync(join(out, "katex.min.css"), css);
for (const f of readdirSync(join(katexDist, "fonts"))) {
  if (f.endsWith(".woff2")) copyFileSync(join(katexDist, "fonts", f), join(out, "fonts", f));
}
copyFileSync(join(pkg, "node_modules", "katex", "LICENSE"), join(out, "KATEX-LICENSE.txt"));
for (const f of ["index.html", "style.css"]) copyFileSync(join(here, f), join(out, f));

// Swagger UI for the server's /docs page, served locally (the API works offline, so do its docs).
const swagger = join(pkg, "node_modules", "swagger-ui-dist");
mkdirSync(join(out, "docs"), { recursive: true });
for (const f of ["swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"]) {
  copyFileSync(join(swagger, f), join(out, "docs", f));
}
copyFileSync(join(swagger, "LICENSE"), join(out, "docs", "SWAGGER-UI-LICENSE.txt"));
console.log(`app built into ${out}`);
