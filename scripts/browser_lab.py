"""A JupyterLab server for scripts/browser_test.py, in its own temporary directories."""

import json
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request


def log(msg):
    print(msg, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_json(path, value):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(value, f)


class Lab:
    """JupyterLab serving root on 127.0.0.1 (free port, random token), everything of its own under work."""

    def __init__(self, jupyter, work, root, timeout=120):
        self.port, self.token = free_port(), secrets.token_hex(24)
        self.base = "http://127.0.0.1:%d" % self.port
        config, settings = os.path.join(work, "config"), os.path.join(work, "settings")
        lab = os.path.join(settings, "@jupyterlab")
        # Autosave off (the run must not write outputs into the committed notebooks), all cells in the DOM
        # (no windowing), no news or update checks (no requests leave the machine).
        write_json(os.path.join(lab, "docmanager-extension", "plugin.jupyterlab-settings"), {"autosave": False})
        write_json(os.path.join(lab, "notebook-extension", "tracker.jupyterlab-settings"), {"windowingMode": "none"})
        write_json(os.path.join(lab, "apputils-extension", "notification.jupyterlab-settings"),
                   {"fetchNews": "false", "checkForUpdates": False})
        env = dict(os.environ)
        env.pop("DDPM_NOTEBOOK_HEADLESS", None)  # the interactive figures must be live here
        env.pop("JUPYTER_PATH", None)
        env.update({
            "JUPYTER_CONFIG_DIR": config,
            "JUPYTER_DATA_DIR": os.path.join(work, "data"),
            "JUPYTER_RUNTIME_DIR": os.path.join(work, "runtime"),
            "JUPYTERLAB_SETTINGS_DIR": settings,
            "JUPYTERLAB_WORKSPACES_DIR": os.path.join(work, "workspaces"),
            "PATH": os.path.dirname(jupyter) + os.pathsep + env.get("PATH", ""),
            "GOEXPERIMENT": "simd",
            "GOTOOLCHAIN": "go1.27.3",
        })
        self.log_path = os.path.join(work, "jupyterlab.log")
        self.log_file = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [jupyter, "lab", "--no-browser", "--ip=127.0.0.1", "--port=%d" % self.port, "--port-retries=0",
             "--IdentityProvider.token=" + self.token, "--ServerApp.root_dir=" + root,
             "--FileCheckpoints.checkpoint_dir=" + os.path.join(work, "checkpoints"),
             "--LabApp.expose_app_in_browser=True",
             "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
             "--LabApp.extension_manager=readonly"] + (["--allow-root"] if os.geteuid() == 0 else []),
            cwd=root, env=env, stdout=self.log_file, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.time() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("JupyterLab exited with %d; its log:\n%s" % (self.proc.returncode, self.tail()))
            try:
                self.api("GET", "/api/status")
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                if time.time() > deadline:
                    raise RuntimeError("JupyterLab did not answer within %ds; its log:\n%s" % (timeout, self.tail()))
                time.sleep(0.5)
        specs = self.api("GET", "/api/kernelspecs")
        if "gonb" not in specs.get("kernelspecs", {}):
            raise RuntimeError("JupyterLab has no gonb kernel (kernels: %s): run scripts/install_jupyterlab.sh"
                               % ", ".join(specs.get("kernelspecs", {})))

    def api(self, method, path):
        req = urllib.request.Request(self.base + path, method=method,
                                     headers={"Authorization": "token " + self.token})
        with urllib.request.urlopen(req, timeout=10) as r:
            body = r.read()
        return json.loads(body) if body else None

    def url(self, path):
        return "%s%s?token=%s&reset" % (self.base, path, self.token)

    def kernel_state(self):
        """The execution state of the (only) running kernel as the server sees it, or None."""
        kernels = self.api("GET", "/api/kernels") or []
        return kernels[0].get("execution_state") if kernels else None

    def shutdown_kernels(self):
        try:
            for k in self.api("GET", "/api/kernels") or []:
                self.api("DELETE", "/api/kernels/" + k["id"])
        except Exception as e:  # the server may be gone already
            log("  (shutting down kernels: %s)" % e)

    def tail(self, n=40):
        self.log_file.flush()
        with open(self.log_path, errors="replace") as f:
            return "".join(f.readlines()[-n:])

    def stop(self):
        if self.proc.poll() is None:
            self.shutdown_kernels()
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.log_file.close()
