#!/usr/bin/env bash
# `make lab`: JupyterLab on a working copy of the report notebooks.
#   - lab/ (git-ignored) holds the copy: made from notebooks/ on first start, then left alone, so
#     edits, outputs and checkpoints never land in the committed notebooks/ (delete lab/<name>.ipynb
#     to get a fresh copy of one notebook on the next start);
#   - the server listens on 127.0.0.1 only and requires a token (a fresh random one each start,
#     printed in the URL below);
#   - --allow-root is added only when running as root (Jupyter refuses root without it).
set -euo pipefail
cd "$(dirname "$0")/.."

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
token="$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(24))')"
echo "lab: JupyterLab 只在本机 127.0.0.1 上开放，访问需令牌；在浏览器中打开下面带 token 的地址。"
exec .venv/bin/jupyter lab --no-browser --ip=127.0.0.1 --ServerApp.root_dir=lab \
  --IdentityProvider.token="$token" "${extra[@]}" "$@"
