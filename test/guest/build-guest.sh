#!/usr/bin/env bash
# build-guest.sh builds the small Debian x86_64 UEFI guest that the tests boot:
# sshd, redsocks, iptables, curl and cloud-init on a GPT disk whose ESP holds a
# standalone GRUB, the kernel and the initrd. The kernel is Debian's full one:
# the cloud kernel has no 9p, which shared folders need. Users and keys are not baked in:
# cloud-init takes them from a NoCloud seed at boot.
#
# Usage: build-guest.sh OUTPUT_DIR   (writes OUTPUT_DIR/guest.qcow2)
# Env:   XRAY_GUEST_DEB_CACHE=DIR   keep downloaded .debs there between builds
#
# The disk is assembled without mounting anything: mkfs.vfat + mtools fill the
# ESP image, `mke2fs -d` turns the rootfs directory into an ext4 image, sfdisk
# lays out the GPT, dd places both images at their partition offsets. Needs
# root (debootstrap), debootstrap, grub-efi-amd64-bin, dosfstools, mtools,
# e2fsprogs, fdisk and qemu-utils.
set -euo pipefail

OUT_DIR=${1:?usage: build-guest.sh OUTPUT_DIR}
SUITE=bookworm
MIRROR=http://deb.debian.org/debian
ESP_MIB=64
ROOT_MIB=3072

# Virtual packages are not resolved by debootstrap, hence python3-cffi-backend
# (python3-cryptography's provider) and initramfs-tools spelled out.
PACKAGES=(
  linux-image-amd64 initramfs-tools systemd-sysv udev dbus
  openssh-server sudo procps iproute2 netbase iputils-ping ca-certificates
  curl iptables redsocks cloud-init python3-cffi-backend cloud-guest-utils
  fdisk isc-dhcp-client less
)

for tool in debootstrap grub-mkstandalone mkfs.vfat mmd mcopy mke2fs sfdisk qemu-img; do
  command -v "$tool" >/dev/null || { echo "build-guest.sh: $tool is missing (apt-get install debootstrap grub-efi-amd64-bin dosfstools mtools e2fsprogs fdisk qemu-utils)" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "build-guest.sh: debootstrap needs root" >&2; exit 1; }

mkdir -p "$OUT_DIR"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/xray-guest-build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
ROOT=$WORK/rootfs
step() { echo "==> $*"; }

step "debootstrap $SUITE"
cache_args=()
if [ -n "${XRAY_GUEST_DEB_CACHE:-}" ]; then
  mkdir -p "$XRAY_GUEST_DEB_CACHE"
  cache_args=(--cache-dir="$(realpath "$XRAY_GUEST_DEB_CACHE")")
fi
debootstrap --variant=minbase "${cache_args[@]}" \
  --include="$(IFS=,; echo "${PACKAGES[*]}")" \
  "$SUITE" "$ROOT" "$MIRROR"

step "configure the rootfs"
echo xray-guest >"$ROOT/etc/hostname"
cat >"$ROOT/etc/hosts" <<'EOF'
127.0.0.1 localhost
127.0.1.1 xray-guest
::1 localhost ip6-localhost ip6-loopback
EOF
cat >"$ROOT/etc/fstab" <<'EOF'
LABEL=root / ext4 defaults,errors=remount-ro 0 0
EOF
cat >"$ROOT/etc/apt/sources.list" <<EOF
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb http://deb.debian.org/debian-security $SUITE-security main
EOF

# QEMU user networking hands out 10.0.2.15 by DHCP with 10.0.2.3 as its DNS;
# Xray's initial-boot hook replaces the resolver when it sets up the firewall.
cat >"$ROOT/etc/systemd/network/10-dhcp.network" <<'EOF'
[Match]
Name=en* eth*

[Network]
DHCP=ipv4
EOF
rm -f "$ROOT/etc/resolv.conf"
echo 'nameserver 10.0.2.3' >"$ROOT/etc/resolv.conf"

# The image is a template: every VM gets its own machine id and host keys.
: >"$ROOT/etc/machine-id"
rm -f "$ROOT/var/lib/dbus/machine-id" "$ROOT"/etc/ssh/ssh_host_*
mkdir -p "$ROOT/etc/systemd/system/ssh.service.d"
cat >"$ROOT/etc/systemd/system/ssh.service.d/10-host-keys.conf" <<'EOF'
[Service]
ExecStartPre=/bin/sh -c 'test -e /etc/ssh/ssh_host_ed25519_key || ssh-keygen -q -t ed25519 -N "" -f /etc/ssh/ssh_host_ed25519_key'
EOF
# cloud-init's ssh_pwauth writes this file and restarts sshd when its value
# differs, dropping connections just after SSH first answers.
echo 'PasswordAuthentication no' >"$ROOT/etc/ssh/sshd_config.d/50-cloud-init.conf"
# No RSA host key: generating one takes a minute under TCG.
cat >"$ROOT/etc/ssh/sshd_config.d/10-xray.conf" <<'EOF'
HostKey /etc/ssh/ssh_host_ed25519_key
HostKey /etc/ssh/ssh_host_ecdsa_key
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
UseDNS no
EOF

# Users come from the NoCloud seed; networking is ours, not cloud-init's.
# Under TCG each cloud-init stage costs tens of seconds of Python start-up, so
# the local stage is masked (the network stage finds NoCloud just as well),
# the module lists keep what seeds use, and no slow RSA host key is made.
cat >"$ROOT/etc/cloud/cloud.cfg.d/90-xray.cfg" <<'EOF'
datasource_list: [NoCloud, None]
network:
  config: disabled
manage_etc_hosts: true
ssh_genkeytypes: [ed25519, ecdsa]
cloud_init_modules:
  - seed_random
  - bootcmd
  - write-files
  - growpart
  - resizefs
  - set_hostname
  - update_hostname
  - update_etc_hosts
  - users-groups
  - ssh
cloud_config_modules:
  - set-passwords
  - timezone
  - runcmd
cloud_final_modules:
  - package-update-upgrade-install
  - scripts-vendor
  - scripts-per-once
  - scripts-per-boot
  - scripts-per-instance
  - scripts-user
  - final-message
EOF

# A small initrd with only the virtio disk drivers and ext4 (modules in the
# full kernel) loads and unpacks faster; the guest never runs KVM itself.
echo 'MODULES=list' >"$ROOT/etc/initramfs-tools/conf.d/xray.conf"
printf '%s\n' virtio_pci virtio_blk ext4 crc32c_generic >>"$ROOT/etc/initramfs-tools/modules"
chroot "$ROOT" update-initramfs -u -k all
printf 'blacklist %s\n' kvm_amd kvm_intel kvm >"$ROOT/etc/modprobe.d/xray-guest.conf"

systemctl --root="$ROOT" enable systemd-networkd.service ssh.service
systemctl --root="$ROOT" disable redsocks.service
systemctl --root="$ROOT" mask cloud-init-local.service apt-daily.timer apt-daily-upgrade.timer \
  e2scrub_all.timer e2scrub_reap.service fstrim.timer

step "clean caches"
chroot "$ROOT" apt-get clean
rm -rf "$ROOT"/var/lib/apt/lists/* "$ROOT"/var/cache/apt/*.bin "$ROOT"/var/log/*.log \
  "$ROOT"/usr/share/doc/* "$ROOT"/usr/share/man/* "$ROOT"/usr/share/info/* \
  "$ROOT"/tmp/* "$ROOT"/var/tmp/*
find "$ROOT/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +

step "build the ESP"
KERNEL=$(find "$ROOT/boot" -maxdepth 1 -name 'vmlinuz-*' | sort | tail -n 1)
INITRD=$ROOT/boot/initrd.img-${KERNEL##*/vmlinuz-}
[ -f "$KERNEL" ] && [ -f "$INITRD" ] || { echo "build-guest.sh: no kernel or initrd in /boot" >&2; exit 1; }
# GRUB looks for this marker to find the ESP, whatever disk number it has.
cat >"$WORK/grub.cfg" <<'EOF'
insmod part_gpt
insmod fat
insmod search_fs_file
insmod linux
set timeout=0
search --no-floppy --file --set=root /xray-guest.esp
linux /vmlinuz root=LABEL=root ro fsck.mode=skip console=tty0 console=ttyS0,115200n8
initrd /initrd.img
boot
EOF
grub-mkstandalone -O x86_64-efi -o "$WORK/BOOTX64.EFI" \
  --install-modules="part_gpt fat ext2 search search_fs_file linux normal configfile echo test" \
  --locales= --fonts= --themes= \
  "boot/grub/grub.cfg=$WORK/grub.cfg"
ESP=$WORK/esp.img
truncate -s "${ESP_MIB}M" "$ESP"
mkfs.vfat -F 32 -n ESP "$ESP" >/dev/null
: >"$WORK/xray-guest.esp"
mmd -i "$ESP" ::/EFI ::/EFI/BOOT
mcopy -i "$ESP" "$WORK/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI
mcopy -i "$ESP" "$KERNEL" ::/vmlinuz
mcopy -i "$ESP" "$INITRD" ::/initrd.img
mcopy -i "$ESP" "$WORK/xray-guest.esp" ::/xray-guest.esp

step "build the root filesystem"
ROOT_IMG=$WORK/root.img
mke2fs -q -t ext4 -d "$ROOT" -L root "$ROOT_IMG" "${ROOT_MIB}M"

step "assemble the disk"
DISK=$WORK/disk.raw
ESP_START=2048
ESP_SECTORS=$((ESP_MIB * 2048))
ROOT_START=$((ESP_START + ESP_SECTORS))
ROOT_SECTORS=$((ROOT_MIB * 2048))
truncate -s "$(( (ROOT_START + ROOT_SECTORS + 2048) * 512 ))" "$DISK"
sfdisk --quiet "$DISK" <<EOF
label: gpt
unit: sectors
start=$ESP_START, size=$ESP_SECTORS, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="ESP"
start=$ROOT_START, size=$ROOT_SECTORS, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="root"
EOF
dd if="$ESP" of="$DISK" bs=1M seek=$((ESP_START / 2048)) conv=notrunc,sparse status=none
dd if="$ROOT_IMG" of="$DISK" bs=1M seek=$((ROOT_START / 2048)) conv=notrunc,sparse status=none

# Uncompressed: compressed clusters cost decompression on every read under TCG.
qemu-img convert -f raw -O qcow2 "$DISK" "$WORK/guest.qcow2"
mv "$WORK/guest.qcow2" "$OUT_DIR/guest.qcow2"
step "done: $OUT_DIR/guest.qcow2"
