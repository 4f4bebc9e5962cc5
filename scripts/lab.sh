#!/usr/bin/env bash
# `make lab`: JupyterLab on a working copy of the report notebooks.
#   - lab/ (git-ignored) holds the copy: made from notebooks/ on first start, then left alone, so
#     edits, outputs and checkpoints never land in the committed notebooks/ (delete lab/<name>.ipynb
#     to get a fresh copy of one notebook on the next start);
#   - the server listens on 127.0.0.1 only and requires a token: a fresh random one each start,
#     handed to jupyter_server in the environment (JUPYTER_TOKEN), never on its command line, so
#     other users cannot read it with `ps` (a process's environment is readable only by its owner);
#   - the port is LAB_PORT, else 8888 when free, else a free one; once the server answers, the
#     full address with the token is printed (Jupyter itself prints the token as "..." when it did
#     not generate it);
#   - --allow-root is added only when running as root (Jupyter refuses root without it).
set -euo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python

mkdir -p lab
for nb in notebooks/*.ipynb; do
  copy="lab/$(basename "$nb")"
  if [ ! -e "$copy" ]; then
    cp "$nb" "$copy"
    echo "lab: 已复制 $nb → $copy"
  elif [ "$nb" -nt "$copy" ] && ! cmp -s "$nb" "$copy"; then
    echo "lab: 注意：$nb 已更新，$copy 保留您的版本（删除 $copy 后重新启动可取得新版本）"
  fi
done

extra=()
if [ "$(id -u)" -eq 0 ]; then
  extra+=(--allow-root)
fi
if [ -n "${LAB_PORT:-}" ]; then
  port="$LAB_PORT"
else
  port="$("$py" -c '
import socket
with socket.socket() as s:
    try:
        s.bind(("127.0.0.1", 8888))
    except OSError:
        s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
')"
fi
# the token lives in this shell (not exported) and in the environments of the server and of the
# readiness check below: never in an argument list
token="$("$py" -c 'import secrets; print(secrets.token_urlsafe(24))')"
url="http://127.0.0.1:${port}/lab?token=${token}"

echo "lab: JupyterLab 只在本机 127.0.0.1:${port} 上开放，访问需令牌；启动后会打印带令牌的地址。"
JUPYTER_TOKEN="$token" .venv/bin/jupyter lab --no-browser --ip=127.0.0.1 --ServerApp.port="$port" \
  --ServerApp.port_retries=0 --ServerApp.root_dir=lab "${extra[@]}" "$@" &
server=$!
trap 'kill -TERM "$server" 2>/dev/null; wait "$server"; exit 130' INT TERM

# wait until the server answers /api/status with the token (or has exited), then print the address
if JUPYTER_TOKEN="$token" "$py" - "$port" "$server" <<'PY'
import os, sys, time, urllib.request

port, pid, token = sys.argv[1], int(sys.argv[2]), os.environ["JUPYTER_TOKEN"]
req = urllib.request.Request(f"http://127.0.0.1:{port}/api/status", headers={"Authorization": f"token {token}"})
while True:
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit(1)
    try:
        with urllib.request.urlopen(req, timeout=2) as r:
            sys.exit(0 if r.status == 200 else 1)
    except OSError:
        time.sleep(0.3)
PY
then
  echo
  echo "lab: 在浏览器中打开 / open in the browser:"
  echo "    ${url}"
  echo "lab: 按 Ctrl-C 停止 / Ctrl-C stops the server."
  echo
fi
wait "$server"
