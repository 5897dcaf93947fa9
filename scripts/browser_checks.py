"""The checks of scripts/browser_test.py on one open JupyterLab page: Run All, error outputs, and the
interactive figures (nb.Player, and any other range input that drives an image)."""

import os
import re
import time

from browser_lab import log


class Failure(Exception):
    """A notebook failed a check (the message says which and why)."""


# JavaScript run in the page: the state of the open notebook. Error outputs come from the notebook's model
# (window.jupyterapp: --LabApp.expose_app_in_browser), stderr and GoNB's error reports from the page.
STATE_JS = """() => {
  const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
  if (!panel) return null;
  const cells = Array.from(panel.querySelectorAll('.jp-Cell.jp-CodeCell'));
  const prompts = cells.map(c => {
    const p = c.querySelector('.jp-InputArea-prompt');
    return p ? p.textContent.trim() : '';
  });
  const problems = [];
  cells.forEach((c, i) => {
    c.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]').forEach(o => {
      const t = o.innerText;
      if (/panic|error/i.test(t)) problems.push('code cell ' + (i + 1) + ': ' + t.trim().slice(0, 400));
    });
    if (c.querySelector('.gonb-err-location, .gonb-err-context, .gonb-cell-line-info'))
      problems.push('code cell ' + (i + 1) + ': GoNB reports a compile error: ' +
                    c.querySelector('.jp-OutputArea').innerText.trim().slice(0, 400));
  });
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  if (w && w.content && w.content.model) {
    const cs = w.content.model.cells;
    for (let i = 0, code = 0; i < cs.length; i++) {
      const c = cs.get(i);
      if (c.type !== 'code') continue;
      code++;
      for (const o of c.outputs.toJSON())
        if (o.output_type === 'error')
          problems.push('code cell ' + code + ': error output ' + o.ename + ': ' + String(o.evalue || '').slice(0, 400));
    }
  }
  const pngs = panel.querySelectorAll('.jp-OutputArea-output img').length;
  const dialog = document.querySelector('.jp-Dialog');
  return {prompts: prompts, problems: problems, pngs: pngs, dialog: dialog ? dialog.innerText : null};
}"""


def run_menu(page, menu, label):
    """Clicks menu > label in JupyterLab's menu bar."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile("^%s$" % menu)).first.click()
    item = page.locator(".lm-Menu-item", has=page.locator(".lm-Menu-itemLabel", has_text=re.compile("^%s$" % label))).first
    item.wait_for(state="visible", timeout=10_000)
    item.click()


def run_all(page, lab, name, timeout, out):
    """Opens notebooks/name, clears its outputs, runs all cells and fails on errors or cells left unrun."""
    page.goto(lab.url("/lab/tree/notebooks/" + name))
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=120_000)
    # The kernel (GoNB) starts with the notebook (GoNB reports no status before its first request, so
    # the server's view of the kernel is used, not the page's indicator).
    deadline = time.time() + 300
    while True:
        st = page.evaluate(STATE_JS)
        if st and st["dialog"]:
            raise Failure("a dialog opened instead of the kernel: %s" % st["dialog"].strip()[:300])
        if st and lab.kernel_state() in ("idle", "busy"):
            break
        if time.time() > deadline:
            raise Failure("the kernel did not start within 300s (server says %s)" % lab.kernel_state())
        time.sleep(0.5)
    ncells = len(st["prompts"])
    run_menu(page, "Edit", "Clear Outputs of All Cells")
    page.wait_for_function("""() => Array.from(document.querySelectorAll(
        '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputArea-prompt')).every(p => !/\\d/.test(p.textContent))""",
                           timeout=30_000)
    log("  %d code cells; Run > Run All Cells" % ncells)
    start = time.time()
    run_menu(page, "Run", "Run All Cells")
    done_re = re.compile(r"^\[\d+\]:$")
    idle_since, last = None, None
    while True:
        time.sleep(1)
        st = page.evaluate(STATE_JS)
        if st["dialog"]:
            raise Failure("a dialog opened while running: %s" % st["dialog"].strip()[:300])
        if st["problems"]:
            break  # reported below, with a screenshot
        ncells = len(st["prompts"])
        done = sum(1 for p in st["prompts"] if done_re.match(p))
        running = any("*" in p for p in st["prompts"])
        if done != last:
            log("  %4ds: %d/%d cells done" % (time.time() - start, done, ncells))
            last = done
        idle = lab.kernel_state() == "idle"
        if done == ncells and idle and not running:
            break
        # Idle with cells left that will not run (the run stopped at an error).
        if idle and not running:
            idle_since = idle_since or time.time()
            if time.time() - idle_since > 30:
                missing = [i + 1 for i, p in enumerate(st["prompts"]) if not done_re.match(p)]
                raise Failure("the run stopped: code cells %s of %d did not run (kernel idle for 30s; prompts %s)"
                              % (missing, ncells, st["prompts"]))
        else:
            idle_since = None
        if time.time() - start > timeout:
            raise Failure("not finished after %ds (%d/%d cells done)" % (timeout, done, ncells))
    page.screenshot(path=os.path.join(out, name.replace(".ipynb", ".png")), full_page=True)
    if st["problems"]:
        raise Failure("error output in " + "\n    ".join(st["problems"]))
    log("  all %d cells ran in %.0fs, no error output, %d images shown" % (ncells, time.time() - start, st["pngs"]))


def count_players(page):
    return page.locator("[data-ddpm-player]").count()


def view_src(player):
    return player.locator("img.ddpm-view").get_attribute("src") or ""


def wait_changed(page, player, before, what):
    """Waits until the player's image differs from before, and returns the new src."""
    deadline = time.time() + 10
    while time.time() < deadline:
        src = view_src(player)
        if src.startswith("data:image/png") and src != before:
            return src
        page.wait_for_timeout(100)
    raise Failure("the image of the %s figure did not change after %s" % (player.get_attribute("data-ddpm-player"), what))


def check_players(page, prefix):
    """Uses every interactive figure (nb.Player) of the page; returns how many."""
    players = page.locator("[data-ddpm-player]")
    for i in range(players.count()):
        p = players.nth(i)
        name = p.get_attribute("data-ddpm-player")
        p.scroll_into_view_if_needed()
        try:
            page.wait_for_function("(el) => el.dataset.draws && el.querySelector('img.ddpm-view').src.startsWith('data:image/png')",
                                   arg=p.element_handle(), timeout=30_000)
        except Exception:
            raise Failure("the %s figure drew nothing (its script did not run: is the output trusted?)" % name)
        shot = lambda what: p.screenshot(path="%s.%s-%s.png" % (prefix, name, what))  # noqa: E731
        shot("initial")
        slider, step = p.locator("input.ddpm-slider"), p.locator("output.ddpm-step")
        hi = int(slider.get_attribute("max"))
        src, t0 = view_src(p), step.inner_text()
        # Keyboard: three arrow presses on the focused slider, away from the nearer end.
        key = "ArrowRight" if int(slider.input_value()) < hi / 2 else "ArrowLeft"
        slider.focus()
        for _ in range(3):
            page.keyboard.press(key)
        src = wait_changed(page, p, src, "three %s presses on its slider" % key)
        if step.inner_text() == t0:
            raise Failure("the %s figure's step label stayed %r after its slider moved" % (name, t0))
        log("  %s: keyboard moved the slider %s -> %s, image changed" % (name, t0, step.inner_text()))
        shot("keyboard")
        # Mouse: a click near the far end of the slider.
        box = slider.bounding_box()
        frac = 0.9 if int(slider.input_value()) < hi / 2 else 0.1
        page.mouse.click(box["x"] + box["width"] * frac, box["y"] + box["height"] / 2)
        src = wait_changed(page, p, src, "a mouse click on its slider")
        log("  %s: mouse moved the slider to %s, image changed" % (name, step.inner_text()))
        # Every drop-down: another option.
        selects = p.locator("select.ddpm-select")
        for k in range(selects.count()):
            s = selects.nth(k)
            options = s.locator("option")
            values = [options.nth(j).get_attribute("value") for j in range(options.count())]
            other = next((v for v in values if v != s.input_value()), None)
            if other is None:
                continue
            s.select_option(other)
            label = s.get_attribute("aria-label")
            src = wait_changed(page, p, src, "picking %s %s" % (label, s.locator("option:checked").inner_text()))
            log("  %s: %s %s picked, image changed (%s)" % (name, label, s.locator("option:checked").inner_text(),
                                                           p.locator("img.ddpm-view").get_attribute("alt")))
        shot("picked")
        # One step with the buttons.
        button = "button.ddpm-next" if int(slider.input_value()) < hi else "button.ddpm-prev"
        p.locator(button).click()
        src = wait_changed(page, p, src, "its %s button" % button.split("-")[-1])
        # Play from the start: the slider must advance by itself.
        play = p.locator("button.ddpm-play")
        if play.count():
            if int(slider.input_value()) != 0:
                slider.focus()
                page.keyboard.press("Home")
                src = wait_changed(page, p, src, "the Home key on its slider")
            play.click()
            page.wait_for_timeout(1000)
            play.click()  # pause
            if int(slider.input_value()) < 2:
                raise Failure("the %s figure's play button did not advance the slider (at %s after 1 s)"
                              % (name, slider.input_value()))
            wait_changed(page, p, src, "its play button")
            log("  %s: play ran the slider to %s, image changed" % (name, step.inner_text()))
        shot("final")
    return players.count()


def check_other_sliders(page, prefix):
    """Moves every range input outside a Player; an image of its output must change. Returns how many."""
    sliders = page.locator(".jp-OutputArea input[type=range]:not([data-ddpm-player] input)")
    for i in range(sliders.count()):
        s = sliders.nth(i)
        area = s.locator("xpath=ancestor::div[contains(@class, 'jp-OutputArea-output')][1]")
        s.scroll_into_view_if_needed()
        imgs = area.locator("img")
        before = [imgs.nth(j).get_attribute("src") for j in range(imgs.count())]
        hi = float(s.get_attribute("max") or 100)
        s.focus()
        page.keyboard.press("ArrowRight" if float(s.input_value()) < hi else "ArrowLeft")
        deadline = time.time() + 10
        while [imgs.nth(j).get_attribute("src") for j in range(imgs.count())] == before:
            if time.time() > deadline:
                raise Failure("moving slider %d (outside an interactive figure) changed no image of its output" % (i + 1))
            page.wait_for_timeout(100)
        area.screenshot(path="%s.slider%d.png" % (prefix, i + 1))
        log("  slider %d (outside an interactive figure): image changed" % (i + 1))
    return sliders.count()
