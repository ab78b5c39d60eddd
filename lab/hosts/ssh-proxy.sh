#!/bin/sh
# ssh's ProxyCommand for a podman container running systemd (molecule's platforms): nothing listens and nothing is
# routed; `podman exec` carries the SSH stream into `sshd -i`. Each new connection first runs prepare-ssh.sh
# there (booted, the container's own host keys, PUBKEY_FILE's key the only one trusted for root; idempotent), so
# no step has to prepare a platform between create and converge. Multiplexing makes that once per host and run.
#   ProxyCommand="lab/hosts/ssh-proxy.sh %h PUBKEY_FILE"
set -eu
host=$1
pubkey=$(cat "$2")
prepare=$(cat "$(dirname "$0")/prepare-ssh.sh")
# prepare-ssh.sh reports "changed" on stdout, which here is the SSH stream: it goes to /dev/null.
exec podman exec -i "$host" sh -c "{
$prepare
} >/dev/null
mkdir -p /run/sshd
exec /usr/sbin/sshd -i" sh "$pubkey"
