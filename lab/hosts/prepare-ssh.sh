#!/bin/sh
# Run inside a lab host through `podman exec -i HOST sh -s -- PUBKEY < prepare-ssh.sh` (lab/playbooks/hosts.yml),
# and by ssh-proxy.sh on each new SSH connection to a molecule platform: waits for systemd to finish booting,
# gives the host its own SSH host keys and makes PUBKEY the only key trusted for root. Prints "changed" when it
# changed something, so Ansible can report it.
set -eu
pubkey=$1
state=$(systemctl is-system-running --wait || true)
case $state in
  running|degraded) ;;
  *) echo "systemd did not finish booting: $state" >&2; exit 1 ;;
esac
if [ ! -e /etc/ssh/ssh_host_ed25519_key ]; then
  ssh-keygen -A >/dev/null
  echo changed
fi
if [ "$(cat /root/.ssh/authorized_keys 2>/dev/null)" != "$pubkey" ]; then
  install -d -m 0700 /root/.ssh
  printf '%s\n' "$pubkey" >/root/.ssh/authorized_keys
  chmod 0600 /root/.ssh/authorized_keys
  echo changed
fi
