#!/usr/bin/env python3
"""Runs the notebooks of notebooks/ in JupyterLab in a real browser (headless Chromium), as a person would.

For each notebook (default: every notebooks/*.ipynb): open it in JupyterLab, clear its saved outputs, Run ->
Run All Cells, wait until every code cell has run and the kernel is idle, and fail if a cell shows an error (an
error output, stderr mentioning a panic or an error, GoNB's compile-error report) or did not run. Then the
kernel is shut down and every interactive figure (nb.Player) of the page is used as a student would: the t
slider moved with the keyboard and the mouse, each drop-down set to another option, the ◀ ▶ buttons, play;
the displayed image must change each time (with the kernel gone: the figures need no running cell). A range
input outside a Player must change an image of its output too. Notebooks known to have interactive figures
(EXPECTED_PLAYERS) must show that many, live. The notebook files must be unchanged afterwards.
Screenshots go to --out (default out/browser/, git-ignored; CI keeps them as artifacts).

JupyterLab runs on 127.0.0.1 on a free port with a random token, with its config, data, runtime, settings,
workspace and checkpoint directories in a temporary directory and autosave off (nothing of the user's is read
or written), and is stopped (its kernels first) whatever happens, also on SIGTERM and SIGHUP. Chromium is
Debian's (/usr/bin/chromium, or --chromium), driven by Playwright from PyPI: no browser is downloaded.

Usage (from the repository root; EXTRA_PIP=playwright==1.65.2 scripts/install_jupyterlab.sh installs
JupyterLab, the GoNB kernel and Playwright into .venv-lab):

  .venv-lab/bin/python scripts/browser_test.py [--timeout SECONDS] [--out DIR] [NAME.ipynb ...]

Notebooks run in their default (quick) mode; the models they train go to runs/report-quick/ and are reused,
so run `go run ./cmd/ddpm figures --mode quick` or scripts/run_notebooks.sh first to save time (CI does).
Exit status 0 when every notebook passes, 1 otherwise (the failures are listed), 2 on a setup error.
"""

import argparse
import hashlib
import os
import shutil
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from browser_lab import Lab, log  # noqa: E402
import browser_checks as checks  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Run first when present, in this order (later notebooks reuse the models earlier ones trained, as in
# scripts/run_notebooks.sh); any other notebook follows, sorted by name.
PREFERRED_ORDER = ["Assignment1_Neural_Graphics.ipynb", "DDPM.ipynb", "Forward_Reverse_Interactive.ipynb",
                   "test_Assignment1_Neural_Graphics.ipynb"]
# Notebooks that must show at least this many live interactive figures (a figure that fell back to its
# static image, e.g. because DDPM_NOTEBOOK_HEADLESS reached the kernel, would otherwise go unnoticed).
EXPECTED_PLAYERS = {"Forward_Reverse_Interactive.ipynb": 2}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def test_notebook(page, lab, name, timeout, out):
    """Runs one notebook and uses its interactive figures; raises checks.Failure."""
    path = os.path.join(ROOT, "notebooks", name)
    before = digest(path)
    checks.run_all(page, lab, name, timeout, out)
    # The figures must work without the kernel: it is shut down before they are used.
    lab.shutdown_kernels()
    stem = name.replace(".ipynb", "")
    n = checks.check_players(page, os.path.join(out, stem))
    n += checks.check_other_sliders(page, os.path.join(out, stem))
    want = EXPECTED_PLAYERS.get(name, 0)
    if checks.count_players(page) < want:
        raise checks.Failure("%d interactive figures, want at least %d" % (checks.count_players(page), want))
    log("  %d interactive figures checked" % n if n else "  no interactive figures")
    if digest(path) != before:
        raise checks.Failure("notebooks/%s was modified by JupyterLab (autosave must be off)" % name)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("notebooks", nargs="*", help="names under notebooks/ (default: all)")
    ap.add_argument("--timeout", type=int, default=1500, help="seconds per notebook (default 1500)")
    ap.add_argument("--out", default=os.path.join(ROOT, "out", "browser"), help="screenshot folder")
    ap.add_argument("--jupyter", default=os.path.join(os.path.dirname(sys.executable), "jupyter"),
                    help="the jupyter command (default: the one beside this Python)")
    ap.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = ap.parse_args()

    names = [os.path.basename(n) for n in args.notebooks]
    if not names:
        present = sorted(f for f in os.listdir(os.path.join(ROOT, "notebooks")) if f.endswith(".ipynb"))
        names = [n for n in PREFERRED_ORDER if n in present] + [n for n in present if n not in PREFERRED_ORDER]
    if not names:
        log("browser_test: no notebooks in notebooks/")
        return 2
    for n in names:
        if not os.path.exists(os.path.join(ROOT, "notebooks", n)):
            log("browser_test: no notebook notebooks/%s" % n)
            return 2
    if not os.access(args.jupyter, os.X_OK):
        log("browser_test: %s not found: run scripts/install_jupyterlab.sh and use its Python" % args.jupyter)
        return 2
    if not os.access(args.chromium, os.X_OK):
        log("browser_test: Chromium not found at %s (apt-get install chromium)" % args.chromium)
        return 2
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        log("browser_test: Playwright is missing: %s -m pip install playwright==1.65.2" % sys.executable)
        return 2
    os.makedirs(args.out, exist_ok=True)
    for f in os.listdir(args.out):  # no stale screenshots from an earlier run
        if f.endswith(".png"):
            os.remove(os.path.join(args.out, f))

    work = tempfile.mkdtemp(prefix="ddpm-browser-")
    lab = None

    # On SIGTERM or SIGHUP (a CI timeout, a closed terminal) stop JupyterLab and its kernels right away and
    # exit: an exception would not unwind reliably through Playwright's event loop. Chromium is ended by
    # Playwright's driver when this process is gone.
    def on_signal(signum, frame):
        log("browser_test: signal %d: stopping JupyterLab" % signum)
        try:
            if lab:
                lab.stop()
        finally:
            shutil.rmtree(work, ignore_errors=True)
            os._exit(128 + signum)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)

    results = []
    total = time.time()
    try:
        try:
            lab = Lab(args.jupyter, work, ROOT)
        except RuntimeError as e:
            log("browser_test: %s" % e)
            return 2
        log("== JupyterLab on %s (log %s)" % (lab.base, lab.log_path))
        with sync_playwright() as pw:
            browser = pw.chromium.launch_persistent_context(
                os.path.join(work, "chromium"), executable_path=args.chromium, headless=True,
                args=CHROMIUM_ARGS, viewport={"width": 1400, "height": 1000})
            try:
                for name in names:
                    log("== %s (timeout %ds)" % (name, args.timeout))
                    page = browser.new_page()
                    start = time.time()
                    try:
                        test_notebook(page, lab, name, args.timeout, args.out)
                        results.append((name, True, time.time() - start, ""))
                        log("ok   %s in %.0fs" % (name, time.time() - start))
                    except Exception as e:  # Failure, or Playwright's errors and timeouts
                        msg = str(e) if isinstance(e, checks.Failure) else "%s: %s" % (type(e).__name__, e)
                        try:
                            page.screenshot(path=os.path.join(args.out, name.replace(".ipynb", "-failed.png")),
                                            full_page=True)
                        except Exception:
                            pass
                        results.append((name, False, time.time() - start, msg))
                        log("FAIL %s after %.0fs: %s" % (name, time.time() - start, msg))
                    finally:
                        page.close()
                        lab.shutdown_kernels()
            finally:
                browser.close()
    finally:
        if lab:
            lab.stop()
            shutil.copy(lab.log_path, os.path.join(args.out, "jupyterlab.log"))
        shutil.rmtree(work, ignore_errors=True)

    failed = [r for r in results if not r[1]]
    log("\n== summary (screenshots in %s; %.0fs in all)" % (os.path.relpath(args.out, ROOT), time.time() - total))
    for name, ok, secs, msg in results:
        log("%-42s %s %5.0fs%s" % (name, "ok  " if ok else "FAIL", secs, "  " + msg.splitlines()[0] if msg else ""))
    log("%d passed, %d failed" % (len(results) - len(failed), len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
