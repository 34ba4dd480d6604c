# qemu/: the qemu platform: `vcons-qemu` (runs one static guest program in a full Linux guest under
# Debian's QEMU, with the command line of vcons-hv) and the guest image it boots, built under build/qemu/:
#   build/qemu/vmlinuz         Debian's cloud kernel (apt-get download linux-image-cloud-amd64's image)
#   build/qemu/initramfs.gz    busybox-static + the virtio modules of that kernel + qemu/init.sh as /init
HOST_PROGS += vcons-qemu
vcons-qemu.srcs := qemu/main.c qemu/launch.c qemu/chan.c qemu/disk.c
vcons-qemu.deps := vclib
vcons-qemu.ldlibs := -ljansson

E2E_TESTS += qemu/test/launcher.sh

QEMU_OUT := build/qemu
# The virtio modules the guest loads, in dependency order (from the modules' depends= fields).
QEMU_MODULES := drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_pci_modern_dev \
                drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci drivers/block/virtio_blk \
                net/core/failover drivers/net/net_failover drivers/net/virtio_net \
                drivers/char/virtio_console drivers/char/hw_random/virtio-rng

programs: $(QEMU_OUT)/vmlinuz $(QEMU_OUT)/initramfs.gz

# The kernel package: the one linux-image-cloud-amd64 depends on, downloaded once (no other download).
$(QEMU_OUT)/kpkg.stamp:
	@mkdir -p $(QEMU_OUT)/deb
	$(call say,APT,linux-image-cloud-amd64)pkg=$$(apt-cache depends linux-image-cloud-amd64 | \
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$$/\1/p' | head -n1) && \
	test -n "$$pkg" || { echo "qemu: apt-cache knows no linux-image-cloud-amd64 (apt-get update?)" >&2; exit 1; }; \
	rm -rf $(QEMU_OUT)/deb/* $(QEMU_OUT)/kpkg && \
	(cd $(QEMU_OUT)/deb && apt-get download -q "$$pkg" 2>&1 | grep -v '^W: Download is performed unsandboxed') ; \
	ls $(QEMU_OUT)/deb/$${pkg}_*.deb >/dev/null && dpkg-deb -x $(QEMU_OUT)/deb/$${pkg}_*.deb $(QEMU_OUT)/kpkg && touch $@

$(QEMU_OUT)/vmlinuz: $(QEMU_OUT)/kpkg.stamp
	$(Q)cp $(QEMU_OUT)/kpkg/boot/vmlinuz-* $@

$(QEMU_OUT)/initramfs.gz: $(QEMU_OUT)/kpkg.stamp qemu/init.sh qemu/module.mk
	$(call say,CPIO,$@)rm -rf $(QEMU_OUT)/initramfs.d && \
	mkdir -p $(QEMU_OUT)/initramfs.d/bin $(QEMU_OUT)/initramfs.d/lib/modules \
		$(QEMU_OUT)/initramfs.d/proc $(QEMU_OUT)/initramfs.d/sys $(QEMU_OUT)/initramfs.d/dev \
		$(QEMU_OUT)/initramfs.d/mnt/root && \
	cp /bin/busybox $(QEMU_OUT)/initramfs.d/bin/busybox && \
	for m in $(QEMU_MODULES); do \
		cp $(QEMU_OUT)/kpkg/lib/modules/*/kernel/$$m.ko $(QEMU_OUT)/initramfs.d/lib/modules/ || exit 1; \
	done && \
	echo "$(notdir $(QEMU_MODULES))" > $(QEMU_OUT)/initramfs.d/lib/modules/order && \
	cp qemu/init.sh $(QEMU_OUT)/initramfs.d/init && chmod 755 $(QEMU_OUT)/initramfs.d/init && \
	(cd $(QEMU_OUT)/initramfs.d && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | \
		gzip -6 > $@.tmp && mv $@.tmp $@
