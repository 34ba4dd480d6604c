/* hv/vdso_image.S: the guest vDSO (hv/vdso/, built as $(B)/vdso/vcons-vdso.so) as bytes in libhv:
 * hv_vdso_image, hv_vdso_size of them; timepage.c copies them into every VM. */
	.section .rodata
	.balign 64
	.globl hv_vdso_image
	.hidden hv_vdso_image
hv_vdso_image:
	.incbin HV_VDSO_SO
hv_vdso_image_end:
	.balign 8
	.globl hv_vdso_size
	.hidden hv_vdso_size
hv_vdso_size:
	.quad hv_vdso_image_end - hv_vdso_image
	.section .note.GNU-stack, "", @progbits
