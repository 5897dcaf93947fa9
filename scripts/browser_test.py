#!/usr/bin/env python3
"""Open notebooks in a real JupyterLab in headless Chromium, run every cell, check them, and move the
sliders of the interactive notebook. (Not yet in CI: a run over several notebooks in one page hung on
the second one on 2026-12-04; the interactive notebook alone passes in about a minute.)

    scripts/browser_test.py [--venv .venv-lab] [--out out/browser] [NAME.ipynb ...]

Needs JupyterLab with the GoNB kernel (scripts/install_jupyterlab.sh), `playwright` from PyPI in the
same venv (its browser download is not used) and Debian's chromium (/usr/bin/chromium). For each
notebook (default: Forward_Reverse_Interactive.ipynb): run all cells through JupyterLab's command, wait
for the kernel, fail on any error output; in notebooks with sliders, move each slider and require the
displayed image to change. Screenshots go to --out (git-ignored). Exit status 1 on any failure.
"""
import argparse, json, os, secrets, shutil, socket, subprocess, sys, tempfile, time, urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_lab(venv, port, token, tmp):
    # Autosave off (its own settings dir): the run must not write outputs into the committed notebooks.
    settings = tmp / "settings" / "@jupyterlab" / "docmanager-extension"
    settings.mkdir(parents=True)
    (settings / "plugin.jupyterlab-settings").write_text(json.dumps({"autosave": False}))
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp / "runtime"), JUPYTER_CONFIG_DIR=str(tmp / "config"),
               JUPYTERLAB_SETTINGS_DIR=str(tmp / "settings"), GOEXPERIMENT="simd")
    env.pop("DDPM_NOTEBOOK_HEADLESS", None)  # live front end: sliders, not static images
    cmd = [str(venv / "bin" / "jupyter"), "lab", "--no-browser", "--allow-root", f"--port={port}",
           "--ip=127.0.0.1", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={ROOT / 'notebooks'}",
           "--LabApp.expose_app_in_browser=True"]
    log = open(tmp / "lab.log", "w")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/api/status?token={token}"
    for _ in range(120):
        try:
            urllib.request.urlopen(url, timeout=2)
            return proc
        except Exception:
            if proc.poll() is not None:
                break
            time.sleep(0.5)
    proc.terminate()
    raise SystemExit(f"browser_test: JupyterLab did not start; log:\n{(tmp / 'lab.log').read_text()[-3000:]}")


def run_notebook(page, base, token, name, out, timeout):
    page.goto(f"{base}/lab/tree/{name}?token={token}")
    page.wait_for_function("window.jupyterapp && window.jupyterapp.shell.currentWidget && "
                           "window.jupyterapp.shell.currentWidget.sessionContext && "
                           "window.jupyterapp.shell.currentWidget.sessionContext.session", timeout=120_000)
    page.wait_for_function("window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.name === 'gonb'",
                           timeout=60_000)
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    # Done when no code cell is queued or running ("*" prompt) and the kernel is idle, twice in a row.
    done_js = """() => { const w = window.jupyterapp.shell.currentWidget;
        const busy = [...w.content.widgets].some(c => c.model.type === 'code' &&
            (c.promptNode && c.promptNode.textContent.includes('*')));
        return !busy && w.sessionContext.session.kernel.status === 'idle'; }"""
    deadline, settled = time.time() + timeout, 0
    while time.time() < deadline and settled < 2:
        time.sleep(2)
        settled = settled + 1 if page.evaluate(done_js) else 0
    if settled < 2:
        page.screenshot(path=str(out / f"{name}.timeout.png"), full_page=True)
        return [f"{name}: cells still running after {timeout}s"]
    errors = page.evaluate("""() => { const w = window.jupyterapp.shell.currentWidget; const errs = [];
        w.content.model.cells.forEach ? null : null;
        for (let i = 0; i < w.content.model.cells.length; i++) {
            const c = w.content.model.cells.get(i);
            if (c.type !== 'code') continue;
            const outs = c.outputs.toJSON();
            for (const o of outs) if (o.output_type === 'error') errs.push(`cell ${i}: ${o.ename}: ${o.evalue}`);
            if (c.executionCount === null) errs.push(`cell ${i}: not executed`);
        } return errs; }""")
    page.screenshot(path=str(out / f"{name}.png"), full_page=True)
    problems = [f"{name}: {e}" for e in errors]
    scrubs = page.locator(".ddpm-scrub")
    for s in range(scrubs.count()):
        scrub = scrubs.nth(s)
        scrub.scroll_into_view_if_needed()
        for slider in [scrub.locator("input[data-axis]").nth(a) for a in range(scrub.locator("input[data-axis]").count())]:
            before = scrub.locator("img").get_attribute("src")
            hi, now = int(slider.get_attribute("max")), int(slider.input_value())
            slider.fill(str(hi if now != hi else 0))
            after = scrub.locator("img").get_attribute("src")
            if after == before:
                problems.append(f"{name}: moving slider {slider.get_attribute('data-axis')} of scrubber {s} did not change the image")
        scrub.screenshot(path=str(out / f"{name}.scrub{s}.png"))
    if name == "Forward_Reverse_Interactive.ipynb" and scrubs.count() < 2:
        problems.append(f"{name}: {scrubs.count()} slider views, want 2 (forward and reverse)")
    return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--venv", default=str(ROOT / ".venv-lab"))
    ap.add_argument("--out", default=str(ROOT / "out" / "browser"))
    ap.add_argument("--timeout", type=int, default=900, help="seconds per notebook")
    ap.add_argument("notebooks", nargs="*", default=["Forward_Reverse_Interactive.ipynb"])
    a = ap.parse_args()
    from playwright.sync_api import sync_playwright
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="ddpm-lab-"))
    port, token = free_port(), secrets.token_hex(16)
    lab = start_lab(Path(a.venv), port, token, tmp)
    problems = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            for name in a.notebooks:
                start = time.time()
                got = run_notebook(page, f"http://127.0.0.1:{port}", token, name, out, a.timeout)
                print(f"{'ok  ' if not got else 'FAIL'} {name} in {time.time() - start:.0f}s")
                problems += got
            browser.close()
    finally:
        lab.terminate()
        try:
            lab.wait(timeout=20)
        except subprocess.TimeoutExpired:
            lab.kill()
        shutil.copy(tmp / "lab.log", out / "jupyterlab.log")
    for pr in problems:
        print("  " + pr)
    print(f"screenshots in {out}")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
