#!/bin/sh
# Installs the Debian packages rlvr needs, only when one is missing. Silent and fast
# (one dpkg-query) when everything is there. Runs apt-get as root, or through sudo.
PKGS="gcc make libcjson-dev libpcre2-dev libutf8proc-dev libgmp-dev libopenblas-openmp-dev unzip python3-pip python3 bubblewrap chromium"
[ -n "$RLVR_EXTRA_PKGS" ] && PKGS="$PKGS $RLVR_EXTRA_PKGS"
missing=""
for p in $PKGS; do
  st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)
  case "$st" in *"install ok installed"*) ;; *) missing="$missing $p" ;; esac
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >&2 || { echo "deps: apt-get update failed" >&2; exit 1; }
$SUDO apt-get install -y -qq --no-install-recommends $missing >&2 || { echo "deps: apt-get install failed for:$missing" >&2; exit 1; }
