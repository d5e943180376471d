/* Compiled C for bench_smp's "compiled code" case: everyday loops as gcc -O2 translates
 * them (a table CRC-32, an insertion sort, FNV-1a over words, a binary search), so the
 * block lengths are a compiler's rather than a width picked by hand. smp_spin.asm calls
 * bench_work on every vCPU. The image is linked at a fixed address and has no data of
 * its own: everything lives on the calling vCPU's stack. */
#include <stddef.h>
#include <stdint.h>

static void crc_table(uint32_t *t)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
        t[i] = c;
    }
}

static uint32_t crc32(const uint32_t *t, const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    while (n--)
        c = t[(c ^ *p++) & 0xff] ^ (c >> 8);
    return ~c;
}

static void insertion_sort(uint32_t *a, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        uint32_t v = a[i];
        size_t j = i;
        while (j > 0 && a[j - 1] > v) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = v;
    }
}

/* FNV-1a over the words of a text: letters hash, anything else ends a word. */
static uint64_t word_hashes(const uint8_t *p, size_t n)
{
    uint64_t sum = 0, h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        uint8_t b = p[i];
        if ((b | 0x20) >= 'a' && (b | 0x20) <= 'z') {
            h = (h ^ b) * 0x100000001b3ull;
        } else if (h != 0xcbf29ce484222325ull) {
            sum += h;
            h = 0xcbf29ce484222325ull;
        }
    }
    return sum + h;
}

static size_t lower_bound(const uint32_t *a, size_t n, uint32_t key)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a[mid] < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

uint64_t bench_work(uint32_t rounds)
{
    uint32_t table[256], keys[128];
    uint8_t text[1024];
    uint64_t sum = 0, x = 0x9e3779b97f4a7c15ull;
    crc_table(table);
    for (uint32_t r = 0; r < rounds; r++) {
        for (size_t i = 0; i < sizeof text; i++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            uint8_t b = (uint8_t)(x >> 59);
            text[i] = b < 26 ? (uint8_t)('a' + b) : ' ';
        }
        for (size_t i = 0; i < 128; i++)
            keys[i] = (uint32_t)(x >> 32) ^ (uint32_t)(i * 2654435761u);
        insertion_sort(keys, 128);
        sum += crc32(table, text, sizeof text);
        sum += word_hashes(text, sizeof text);
        for (uint32_t i = 0; i < 64; i++)
            sum += lower_bound(keys, 128, table[i]);
    }
    return sum;
}
