/* ELF64, ELF32 and flat images, checked before a byte reaches guest RAM. */
#include <elf.h>
#include <string.h>
#include "emu/internal.h"

#define LOW_RESERVED 0x8000u     /* GDT and page tables */
#define STACK_RESERVE 0x10000u   /* the top of RAM is the stack */

static int bad(char *err, size_t errlen, const char *msg)
{
    snprintf(err, errlen, "%s", msg);
    return -1;
}

static int check_range(const struct emu *e, uint64_t addr, uint64_t len, char *err,
                       size_t errlen, const char *what)
{
    if (addr < LOW_RESERVED || addr > e->ram_size || len > e->ram_size - STACK_RESERVE ||
        addr + len > e->ram_size - STACK_RESERVE) {
        snprintf(err, errlen,
                 "%s 0x%llx-0x%llx is outside guest RAM (0x%x-0x%llx with %u MiB; try --memory)",
                 what, (unsigned long long)addr, (unsigned long long)(addr + len), LOW_RESERVED,
                 (unsigned long long)(e->ram_size - STACK_RESERVE), e->cfg.memory_mib);
        return -1;
    }
    return 0;
}

/* Class, machine and entry, before the machine exists (it depends on the class). */
int load_probe(const uint8_t *img, size_t len, bool raw, bool *long_mode, char *err,
               size_t errlen)
{
    if (len == 0)
        return bad(err, errlen, "empty file");
    if (raw) {
        *long_mode = true;
        return 0;
    }
    if (len < EI_NIDENT || memcmp(img, ELFMAG, SELFMAG) != 0)
        return bad(err, errlen, "not an ELF executable (a flat binary needs --raw ADDR)");
    if (img[EI_DATA] != ELFDATA2LSB)
        return bad(err, errlen, "big-endian ELF: not an x86 executable");
    if (img[EI_CLASS] == ELFCLASS64) {
        if (len < sizeof(Elf64_Ehdr))
            return bad(err, errlen, "truncated ELF header");
        const Elf64_Ehdr *h = (const void *)img;
        if (h->e_machine != EM_X86_64) {
            snprintf(err, errlen, "ELF64 for machine %u, not x86-64 (62)", h->e_machine);
            return -1;
        }
        *long_mode = true;
    } else if (img[EI_CLASS] == ELFCLASS32) {
        if (len < sizeof(Elf32_Ehdr))
            return bad(err, errlen, "truncated ELF header");
        const Elf32_Ehdr *h = (const void *)img;
        /* An ELF32 container of x86-64 code (XTF's hvm64 kernels) starts in 32-bit
         * mode too, and switches to long mode itself, as under Xen. */
        if (h->e_machine != EM_386 && h->e_machine != EM_X86_64) {
            snprintf(err, errlen, "ELF32 for machine %u, not i386 (3) or x86-64 (62)", h->e_machine);
            return -1;
        }
        *long_mode = false;
    } else {
        return bad(err, errlen, "ELF class is neither 32 nor 64 bits");
    }
    return 0;
}

struct load_seg {
    uint64_t type, offset, vaddr, filesz, memsz;
};

static int load_segments(struct emu *e, const uint8_t *img, size_t len, uint64_t phoff,
                         unsigned phnum, unsigned phentsize, bool is64, uint64_t entry,
                         char *err, size_t errlen)
{
    if (phnum == 0)
        return bad(err, errlen, "no program headers: nothing to load");
    if (phentsize != (is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr)))
        return bad(err, errlen, "unexpected program header size");
    if (phoff > len || (uint64_t)phnum * phentsize > len - phoff)
        return bad(err, errlen, "program header table runs past the end of the file");
    bool entry_loaded = false;
    for (unsigned i = 0; i < phnum; i++) {
        const uint8_t *p = img + phoff + (uint64_t)i * phentsize;
        struct load_seg s;
        if (is64) {
            const Elf64_Phdr *ph = (const void *)p;
            s = (struct load_seg){ ph->p_type, ph->p_offset, ph->p_vaddr, ph->p_filesz, ph->p_memsz };
        } else {
            const Elf32_Phdr *ph = (const void *)p;
            s = (struct load_seg){ ph->p_type, ph->p_offset, ph->p_vaddr, ph->p_filesz, ph->p_memsz };
        }
        if (s.type != PT_LOAD || s.memsz == 0)
            continue;
        char what[48];
        snprintf(what, sizeof what, "segment %u", i);
        if (s.filesz > s.memsz) {
            snprintf(err, errlen, "segment %u has more file bytes than memory bytes", i);
            return -1;
        }
        if (s.offset > len || s.filesz > len - s.offset) {
            snprintf(err, errlen, "segment %u runs past the end of the file (truncated?)", i);
            return -1;
        }
        if (check_range(e, s.vaddr, s.memsz, err, errlen, what))
            return -1;
        memcpy(e->ram + s.vaddr, img + s.offset, (size_t)s.filesz);
        memset(e->ram + s.vaddr + s.filesz, 0, (size_t)(s.memsz - s.filesz));
        if (entry >= s.vaddr && entry < s.vaddr + s.memsz)
            entry_loaded = true;
    }
    if (!entry_loaded) {
        snprintf(err, errlen, "entry point 0x%llx is in no loaded segment",
                 (unsigned long long)entry);
        return -1;
    }
    return 0;
}

int load_image(struct emu *e, const uint8_t *img, size_t len, bool raw, uint64_t raw_addr,
               uint64_t *entry, char *err, size_t errlen)
{
    if (raw) {
        if (check_range(e, raw_addr, len, err, errlen, "the image"))
            return -1;
        memcpy(e->ram + raw_addr, img, len);
        *entry = raw_addr;
        return 0;
    }
    if (img[EI_CLASS] == ELFCLASS64) {
        const Elf64_Ehdr *h = (const void *)img;
        if (h->e_type != ET_EXEC)
            return bad(err, errlen, h->e_type == ET_DYN ? "position-independent ELF (link with -no-pie)"
                                                         : "not an executable ELF (e_type)");
        *entry = h->e_entry;
        return load_segments(e, img, len, h->e_phoff, h->e_phnum, h->e_phentsize, true, *entry,
                             err, errlen);
    }
    const Elf32_Ehdr *h = (const void *)img;
    if (h->e_type != ET_EXEC)
        return bad(err, errlen, "not an executable ELF (e_type)");
    *entry = h->e_entry;
    return load_segments(e, img, len, h->e_phoff, h->e_phnum, h->e_phentsize, false, *entry, err,
                         errlen);
}
