#!/bin/sh
# Installs wolkvox-sync as a systemd service.
#
#   sudo systemd/install.sh [BINARY]         install on this host
#   DESTDIR=/tmp/root systemd/install.sh     install into a scratch root
#
# BINARY defaults to target/release/wolkvox-sync (build it first with
# `cargo build --release --locked`). Nothing is started: the script prints
# the next steps.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-"$here/../target/release/wolkvox-sync"}
root=${DESTDIR:-}

if [ ! -x "$bin" ]; then
    echo "install.sh: $bin is not an executable; build it with: cargo build --release --locked" >&2
    exit 66
fi

install -D -m 0755 "$bin" "$root/usr/local/bin/wolkvox-sync"
install -D -m 0644 "$here/wolkvox-sync.sysusers" "$root/usr/lib/sysusers.d/wolkvox-sync.conf"
install -D -m 0644 "$here/wolkvox-sync.service" "$root/etc/systemd/system/wolkvox-sync.service"
install -D -m 0644 "$here/wolkvox-sync@.service" "$root/etc/systemd/system/wolkvox-sync@.service"
install -d -m 0755 "$root/etc/wolkvox-sync/jobs"
if [ ! -e "$root/etc/wolkvox-sync/wolkvox-sync.toml" ]; then
    install -m 0644 "$here/wolkvox-sync.toml.example" "$root/etc/wolkvox-sync/wolkvox-sync.toml"
fi
install -D -m 0644 "$here/../README.md" "$root/usr/share/doc/wolkvox-sync/README.md"

# The system user the service runs as (its group reads the output).
if [ -z "$root" ]; then
    systemd-sysusers wolkvox-sync.conf
    systemctl daemon-reload
else
    systemd-sysusers --root="$root" wolkvox-sync.conf
fi

cat <<NEXT
Installed. Next:
  1. Put the token in $root/etc/wolkvox-sync/token (mode 0600, owner root).
  2. Edit $root/etc/wolkvox-sync/wolkvox-sync.toml (server, licenses).
  3. Add job files to $root/etc/wolkvox-sync/jobs/ (examples: jobs/ in the source).
  4. systemctl enable --now wolkvox-sync
  5. Let analysts read the files: usermod -aG wolkvox-sync NAME
NEXT
