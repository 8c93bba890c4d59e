// test_meta_checks.mjs - the checks of the metadata that need node, run by
// test_meta_gw (tests/integration) from the directory test_meta_setup.sh
// filled (package.json, node_modules, this file):
//
//   node test_meta_checks.mjs tsc DIR          tsc --strict over DIR/dtos.ts
//        and test_meta_client.ts against @servicestack/client, the
//        JavaScript written to DIR/tsout (test_meta_gw runs it)
//   node test_meta_checks.mjs openapi FILE     OpenAPI 3.1 schema validation
//   node test_meta_checks.mjs browser URL OUT  headless Chromium (Debian's,
//        /usr/bin/chromium) loads URL/metadata and an operation's page, on
//        a wide and a phone-sized viewport: no console error, no failed
//        request, every link answers 200, nothing wider than the phone;
//        screenshots into OUT
//
// Exit 0 when the check passes; what failed goes to stderr.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

function fail(msg) {
    console.error(`meta ${process.argv[2]}: ${msg}`);
    process.exit(1);
}

function tsc(dir) {
    const args = [
        join(here, "node_modules/typescript/bin/tsc"), "--strict",
        "--outDir", join(dir, "tsout"),
        "--target", "es2020", "--module", "commonjs",
        "--moduleResolution", "node", "--lib", "es2020,dom",
        join(dir, "dtos.ts"), join(dir, "test_meta_client.ts"),
    ];
    const r = spawnSync(process.execPath, args, { encoding: "utf8", cwd: dir });
    if (r.status !== 0) {
        fail(`tsc failed:\n${r.stdout}${r.stderr}`);
    }
    console.log("tsc: dtos.ts compiles against @servicestack/client");
}

async function openapi(file) {
    const { Validator } = await import("@seriousme/openapi-schema-validator");
    const doc = JSON.parse(readFileSync(file, "utf8"));
    const v = new Validator();
    const r = await v.validate(doc);
    if (!r.valid) {
        fail(`not a valid OpenAPI document:\n${JSON.stringify(r.errors, null, 1)}`);
    }
    if (v.version !== "3.1") {
        fail(`validated as OpenAPI ${v.version}, expected 3.1`);
    }
    // every $ref resolves
    const text = JSON.stringify(doc);
    for (const m of text.matchAll(/"\$ref":"#\/components\/(\w+)\/(\w+)"/g)) {
        if (!doc.components?.[m[1]]?.[m[2]]) {
            fail(`dangling $ref #/components/${m[1]}/${m[2]}`);
        }
    }
    console.log(`openapi: valid OpenAPI ${v.version}, ` +
        `${Object.keys(doc.paths).length} paths`);
}

async function browser(base, out) {
    const { default: puppeteer } = await import("puppeteer-core");
    const profile = mkdtempSync(join(tmpdir(), "usersd-chromium-"));
    const problems = [];
    const b = await puppeteer.launch({
        executablePath: "/usr/bin/chromium",
        headless: true,
        userDataDir: profile,
        args: [
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run",
            "--disable-dev-shm-usage",
        ],
        timeout: 30000,
    });
    try {
        const pages = [
            ["/metadata", "metadata"],
            ["/json/metadata?op=PatchUser", "PatchUser.json"],
            ["/jsv/metadata?op=UpdateBusinessUser", "UpdateBusinessUser.jsv"],
        ];
        const links = new Set();
        for (const [path, name] of pages) {
            for (const [vw, vh, tag] of [[1280, 900, "wide"], [390, 844, "phone"]]) {
                const page = await b.newPage();
                await page.setViewport({ width: vw, height: vh });
                page.on("console", (m) => {
                    if (m.type() === "error" || m.type() === "warn") {
                        problems.push(`${path} (${tag}) console ${m.type()}: ${m.text()}`);
                    }
                });
                page.on("pageerror", (e) => problems.push(`${path}: ${e.message}`));
                page.on("requestfailed", (r) =>
                    problems.push(`${path}: request failed ${r.url()}`));
                page.on("response", (r) => {
                    if (r.status() >= 400) { // favicon included
                        problems.push(`${path}: ${r.status()} for ${r.url()}`);
                    }
                });
                const res = await page.goto(base + path, { waitUntil: "load", timeout: 15000 });
                // 304: the second viewport revalidates by ETag
                if (res === null || (res.status() !== 200 && res.status() !== 304)) {
                    problems.push(`${path}: status ${res && res.status()}`);
                }
                const hrefs = await page.$$eval("a[href]", (as) => as.map((a) => a.href));
                hrefs.forEach((h) => links.add(h));
                const wide = await page.evaluate(
                    () => document.documentElement.scrollWidth);
                if (wide > vw + 1) {
                    problems.push(`${path} (${tag}): the page is ${wide}px wide on a ${vw}px screen`);
                }
                const title = await page.title();
                if (!title) {
                    problems.push(`${path}: no title`);
                }
                await page.screenshot({ path: join(out, `${name}.${tag}.png`), fullPage: true });
                await page.close();
            }
        }
        for (const link of links) {
            if (!link.startsWith(base)) {
                problems.push(`link leaves the site: ${link}`);
                continue;
            }
            const r = await fetch(link);
            if (r.status !== 200) {
                problems.push(`broken link ${link}: ${r.status}`);
            }
            await r.arrayBuffer();
        }
        console.log(`browser: ${pages.length} pages, ${links.size} links checked`);
    } finally {
        await b.close();
        rmSync(profile, { recursive: true, force: true });
    }
    if (problems.length > 0) {
        fail(problems.join("\n"));
    }
}

const [cmd, a1, a2] = process.argv.slice(2);
if (cmd === "tsc") {
    tsc(a1);
} else if (cmd === "openapi") {
    await openapi(a1);
} else if (cmd === "browser") {
    await browser(a1.replace(/\/$/, ""), a2);
} else {
    fail("usage: test_meta_checks.mjs tsc DIR | openapi FILE | browser URL OUT");
}
