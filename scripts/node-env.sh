# Sourced by the setup scripts: puts a Node.js >= 22.12 first on PATH, so that npm
# itself (engines checks, install scripts) runs on the Node the project runs on.
# Where the machine's Node is older (Debian 12 ships 20), the Node 24 binary that
# package.json pins as a devDependency is bootstrapped into .tools/ from the npm
# registry. `npm run` scripts always use that pinned Node (node_modules/.bin).
node_is_recent() {
  command -v node >/dev/null 2>&1 &&
    node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 22 || (a === 22 && b >= 12) ? 0 : 1)'
}
if ! node_is_recent; then
  pinned=$(sed -n 's/^ *"node": "\([0-9.]*\)",\{0,1\}$/\1/p' package.json | head -n 1)
  if [[ "$(.tools/node_modules/node/bin/node -v 2>/dev/null)" != "v$pinned" ]]; then
    echo "setup: this machine has Node $(node -v 2>/dev/null || echo 'none'); bringing the project's Node $pinned into .tools/"
    mkdir -p .tools
    # Its own tiny project, so npm lets the node package's install script run (it links the binary).
    echo '{ "private": true, "allowScripts": { "node": true } }' > .tools/package.json
    npm install --prefix .tools --no-save --no-package-lock --no-audit --no-fund --loglevel=error "node@$pinned" >/dev/null
  fi
  export PATH="$PWD/.tools/node_modules/.bin:$PATH"
fi
