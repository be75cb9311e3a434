#!/usr/bin/env python3
"""Extract the nginx.conf of each test of nginx-tests (github.com/nginx/nginx-tests)
into OUT/NAME/nginx.conf, for `tests/nginx_mutations.rs`:

    python3 scripts/extract-nginx-tests.py GIT_DIR OUT
    NGINX_EDIT_MUTATION_CONFIGS=OUT cargo test -p e2e --test nginx_mutations -- --nocapture

Python 3.11, standard library only. GIT_DIR is a clone (bare or not) of
nginx-tests; the configs stay outside the repository (OUT, e.g. under /tmp).
Each test writes its config with `write_file_expand('nginx.conf', <<'EOF')`;
its placeholders are filled as Test::Nginx fills them (%%TEST_GLOBALS%%,
%%TEST_GLOBALS_HTTP%%, %%TESTDIR%% as OUT/NAME, %%PORT_n%% as n), and the
configs with a `stream` or `mail` block load Debian's module first. Tests
whose config needs files (certificates, keys) fail in nginx too: the
mutation test only mutates the configs `nginx -t` accepts.
"""

import os
import re
import subprocess
import sys

MODULES = "/usr/lib/nginx/modules"


def git(git_dir: str, *args: str) -> bytes:
    return subprocess.run(
        ["git", "--git-dir", git_dir, *args], capture_output=True, check=True
    ).stdout


def fill(conf: str, testdir: str) -> str:
    globals_ = f"pid {testdir}/nginx.pid;\nerror_log {testdir}/error.log debug;\n"
    http = f"root {testdir};\n" + "".join(
        f"{d} {testdir}/{t};\n"
        for d, t in [
            ("access_log", "access.log"),
            ("client_body_temp_path", "client_body_temp"),
            ("fastcgi_temp_path", "fastcgi_temp"),
            ("proxy_temp_path", "proxy_temp"),
            ("uwsgi_temp_path", "uwsgi_temp"),
            ("scgi_temp_path", "scgi_temp"),
        ]
    )
    conf = conf.replace("%%TEST_GLOBALS%%", globals_)
    conf = conf.replace("%%TEST_GLOBALS_HTTP%%", http)
    conf = conf.replace("%%TEST_GLOBALS_STREAM%%", "")
    conf = conf.replace("%%TESTDIR%%", testdir)
    conf = re.sub(r"%%PORT_(\d+)(_UDP)?%%", lambda m: m.group(1), conf)
    loads = "".join(
        f"load_module {MODULES}/ngx_{block}_module.so;\n"
        for block in ("stream", "mail")
        if re.search(rf"^{block}\s*\{{", conf, re.M)
    )
    return loads + conf + "\n"


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    git_dir, out = sys.argv[1], os.path.abspath(sys.argv[2])
    names = git(git_dir, "ls-tree", "-r", "--name-only", "HEAD").decode().split()
    heredoc = re.compile(r"write_file_expand\('nginx\.conf',\s*<<'EOF'\);\n(.*?)\nEOF\n", re.S)
    count = 0
    for name in names:
        if not name.endswith(".t"):
            continue
        text = git(git_dir, "show", f"HEAD:{name}").decode("utf-8", "replace")
        for i, m in enumerate(heredoc.finditer(text)):
            base = os.path.basename(name)[:-2] + (f"-{i}" if i else "")
            testdir = os.path.join(out, base)
            os.makedirs(os.path.join(testdir, "logs"), exist_ok=True)
            with open(os.path.join(testdir, "nginx.conf"), "w") as f:
                f.write(fill(m.group(1), testdir))
            count += 1
    print(f"{count} configs in {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
