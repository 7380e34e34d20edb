/* Memory: the PVH memory map, a bitmap page allocator, and the sealed page tables.
 *
 * Until mm_seal the boot tables (boot.S) identity-map 0..4 GiB read-write-execute. mm_seal
 * builds the final tables once and for all: base text and appliance code read-only + executable,
 * everything else no-execute (rodata read-only), page 0, a guard page under the boot stack and
 * a guard after the appliance's linear memory left unmapped, device memory uncached; the page
 * tables themselves are mapped read-only, so with CR0.WP nothing can change them again. */
#include "kbase.h"
#include "mm.h"

#define PTE_P 0x1ULL
#define PTE_W 0x2ULL
#define PTE_PWT 0x8ULL
#define PTE_PCD 0x10ULL
#define PTE_PS 0x80ULL
/* bit 63 is reserved without EFER.NXE, which boot.S sets only when the CPU has NX */
#define PTE_NX nx_bit
static uint64_t nx_bit;
#define PTE_ADDR 0x000ffffffffff000ULL
#define MB2 0x200000ULL
#define LIMIT_4G 0x100000000ULL
#define GUARD_BYTES (64 * 1024ULL)

extern char __image_start[], __text_start[], __text_end[], __rodata_start[], __rodata_end[], __image_end[];
extern char boot_stack_bottom[];

#define MAX_RAM 16
#define MAX_OVERRIDES 24
static struct { uint64_t start, end; } ram[MAX_RAM];
static int n_ram;
static struct { uint64_t start, end, flags; } ov[MAX_OVERRIDES];
static int n_ov;

static uint64_t *bitmap;	/* 1 bit per page below alloc_limit: 1 = used */
static uint64_t alloc_limit, total_bytes, used_pages, image_end;
static bool sealed;
static uint64_t kalloc_cur, kalloc_end;
static uint64_t *pt_pool;
static uint64_t pt_pool_pages, pt_pool_used;

static void add_override(uint64_t start, uint64_t end, uint64_t flags)
{
	if (n_ov >= MAX_OVERRIDES) panic("mm: too many mappings");
	ov[n_ov].start = start, ov[n_ov].end = end, ov[n_ov].flags = flags;
	n_ov++;
}

static bool bit_get(uint64_t pfn) { return bitmap[pfn / 64] >> (pfn % 64) & 1; }
static void bit_set(uint64_t pfn, bool v)
{
	if (v) bitmap[pfn / 64] |= 1ULL << (pfn % 64);
	else bitmap[pfn / 64] &= ~(1ULL << (pfn % 64));
}

/* marks pages [first, end) free, a word at a time where it can; returns the count */
static uint64_t free_range(uint64_t first, uint64_t end)
{
	uint64_t p = first;
	for (; p < end && p % 64; p++) bit_set(p, false);
	for (; p + 64 <= end; p += 64) bitmap[p / 64] = 0;
	for (; p < end; p++) bit_set(p, false);
	return end > first ? end - first : 0;
}

void mm_init(const struct mem_region *map, uint32_t n)
{
	uint32_t a, b, c, d;
	cpuid(0x80000001, 0, &a, &b, &c, &d);
	nx_bit = d & (1u << 20) ? 1ULL << 63 : 0;
	extern uint64_t appliance_end(void);
	image_end = ALIGN_UP((uint64_t)__image_end, PAGE_SIZE);
	uint64_t app_end = appliance_end();
	if (app_end > image_end) image_end = ALIGN_UP(app_end, PAGE_SIZE);

	for (uint32_t i = 0; i < n && n_ram < MAX_RAM; i++) {
		if (map[i].type != 1) continue;
		uint64_t s = ALIGN_UP(map[i].addr, PAGE_SIZE), e = (map[i].addr + map[i].size) & ~(PAGE_SIZE - 1);
		if (e > LIMIT_4G) e = LIMIT_4G;	/* the boot tables reach 4 GiB; RAM above is not used */
		if (e <= s) continue;
		ram[n_ram].start = s, ram[n_ram].end = e;
		n_ram++;
		total_bytes += e - s;
		if (e > alloc_limit) alloc_limit = e;
	}
	/* the bitmap goes in the first RAM after the image */
	uint64_t bm_bytes = ALIGN_UP(alloc_limit / PAGE_SIZE / 8, PAGE_SIZE);
	uint64_t bm_at = 0;
	for (int i = 0; i < n_ram; i++) {
		uint64_t s = ram[i].start < image_end ? image_end : ram[i].start;
		if (s + bm_bytes <= ram[i].end) {
			bm_at = s;
			break;
		}
	}
	if (!bm_at) panic("mm: no room for the page bitmap");
	bitmap = (uint64_t *)bm_at;
	memset(bitmap, 0xff, bm_bytes);
	/* free = RAM above 1 MiB minus the image (with the appliance) and the bitmap */
	uint64_t free_pages = 0;
	for (int i = 0; i < n_ram; i++) {
		uint64_t s = ram[i].start < 0x100000 ? 0x100000 : ram[i].start, e = ram[i].end;
		uint64_t holes[2][2] = { { (uint64_t)__image_start, image_end }, { bm_at, bm_at + bm_bytes } };
		/* cut [s, e) by the two holes (the bitmap follows the image or lies elsewhere) */
		uint64_t cur = s;
		for (int h = 0; h < 2 && cur < e; h++) {
			uint64_t hs = holes[h][0], he = holes[h][1];
			if (he <= cur || hs >= e) continue;
			if (hs > cur) free_pages += free_range(cur / PAGE_SIZE, hs / PAGE_SIZE);
			cur = he;
		}
		if (cur < e) free_pages += free_range(cur / PAGE_SIZE, e / PAGE_SIZE);
	}
	used_pages = total_bytes / PAGE_SIZE - free_pages;
}

void *page_alloc(uint64_t npages)
{
	uint64_t run = 0;
	for (uint64_t p = 0x100; p < alloc_limit / PAGE_SIZE; p++) {
		run = bit_get(p) ? 0 : run + 1;
		if (run == npages) {
			uint64_t first = p + 1 - npages;
			for (uint64_t q = first; q <= p; q++) bit_set(q, true);
			used_pages += npages;
			void *mem = (void *)(first * PAGE_SIZE);
			memset(mem, 0, npages * PAGE_SIZE);
			return mem;
		}
	}
	return NULL;
}

void page_free(void *mem, uint64_t npages)
{
	uint64_t first = (uint64_t)mem / PAGE_SIZE;
	for (uint64_t q = first; q < first + npages; q++) {
		if (!bit_get(q)) panic("mm: double free");
		bit_set(q, false);
	}
	used_pages -= npages;
}

void *kalloc(uint64_t size, uint64_t align)
{
	if (align < 16) align = 16;
	uint64_t at = ALIGN_UP(kalloc_cur, align);
	if (!kalloc_cur || at + size > kalloc_end) {
		uint64_t pages = ALIGN_UP(size + align, 64 * 1024) / PAGE_SIZE;
		uint8_t *chunk = page_alloc(pages);
		if (!chunk) return NULL;
		kalloc_cur = (uint64_t)chunk, kalloc_end = kalloc_cur + pages * PAGE_SIZE;
		at = ALIGN_UP(kalloc_cur, align);
	}
	kalloc_cur = at + size;
	return (void *)at;
}

uint64_t mm_used_bytes(void) { return used_pages * PAGE_SIZE; }
uint64_t mm_total_bytes(void) { return total_bytes; }
bool mm_sealed(void) { return sealed; }

void mm_take_rest(uint64_t *base, uint64_t *size)
{
	/* leave room for the page-table pool and later small allocations */
	uint64_t best = 0, best_len = 0, run = 0;
	for (uint64_t p = 0x100; p < alloc_limit / PAGE_SIZE; p++) {
		run = bit_get(p) ? 0 : run + 1;
		if (run > best_len) best_len = run, best = p + 1 - run;
	}
	/* keep 1/32 (at least 1 MiB) for page tables and the runtime's own allocations */
	uint64_t keep = best_len / 32 > 256 ? best_len / 32 : 256;
	uint64_t guard = GUARD_BYTES / PAGE_SIZE;
	if (best_len <= keep + guard) {
		*base = 0, *size = 0;
		return;
	}
	uint64_t pages = best_len - keep - guard;
	for (uint64_t q = best; q < best + pages + guard; q++) bit_set(q, true);
	used_pages += pages + guard;
	*base = best * PAGE_SIZE;
	*size = pages * PAGE_SIZE;
	add_override(*base + *size, *base + *size + GUARD_BYTES, 0);
}

void mm_map_mmio(uint64_t addr, uint64_t len)
{
	if (sealed) return;	/* the tables are final; devices are mapped before sealing */
	for (int i = 0; i < n_ov; i++)
		if (ov[i].start == (addr & ~(PAGE_SIZE - 1)) && ov[i].flags & PTE_PCD) return;
	add_override(addr & ~(PAGE_SIZE - 1), ALIGN_UP(addr + len, PAGE_SIZE), PTE_P | PTE_W | PTE_PCD | PTE_PWT | PTE_NX);
}

void mm_guard(uint64_t addr, uint64_t len) { add_override(addr & ~(PAGE_SIZE - 1), ALIGN_UP(addr + len, PAGE_SIZE), 0); }

void mm_set_appliance(uint64_t addr, uint64_t size, uint64_t code_off, uint64_t code_len)
{
	add_override(addr & ~(PAGE_SIZE - 1), ALIGN_UP(addr + size, PAGE_SIZE), PTE_P | PTE_W | PTE_NX);
	if (code_len)
		add_override((addr + code_off) & ~(PAGE_SIZE - 1), ALIGN_UP(addr + code_off + code_len, PAGE_SIZE), PTE_P);
}

static uint64_t flags_at(uint64_t a)
{
	uint64_t f = 0;
	for (int i = 0; i < n_ram; i++)
		if (a >= ram[i].start && a < ram[i].end) f = PTE_P | PTE_W | PTE_NX;
	for (int i = 0; i < n_ov; i++)
		if (a >= ov[i].start && a < ov[i].end) f = ov[i].flags;
	return f;
}

static bool boundary_inside(uint64_t s, uint64_t e)
{
	for (int i = 0; i < n_ram; i++)
		if ((ram[i].start > s && ram[i].start < e) || (ram[i].end > s && ram[i].end < e)) return true;
	for (int i = 0; i < n_ov; i++)
		if ((ov[i].start > s && ov[i].start < e) || (ov[i].end > s && ov[i].end < e)) return true;
	return false;
}

static uint64_t *pt_new(void)
{
	if (pt_pool_used == pt_pool_pages) panic("mm: page-table pool exhausted");
	return &pt_pool[512 * pt_pool_used++];
}

static uint64_t *next_level(uint64_t *table, unsigned idx)
{
	if (!(table[idx] & PTE_P)) table[idx] = (uint64_t)pt_new() | PTE_P | PTE_W;
	return (uint64_t *)(table[idx] & PTE_ADDR);
}

static void map_chunk(uint64_t *pml4, uint64_t c)
{
	uint64_t *pdpt = next_level(pml4, (c >> 39) & 511);
	uint64_t *pd = next_level(pdpt, (c >> 30) & 511);
	unsigned pdi = (c >> 21) & 511;
	if (!boundary_inside(c, c + MB2)) {
		uint64_t f = flags_at(c);
		if (f) pd[pdi] = c | f | PTE_PS;
		return;
	}
	uint64_t *pt = next_level(pd, pdi);
	for (unsigned i = 0; i < 512; i++) {
		uint64_t a = c + i * PAGE_SIZE, f = flags_at(a);
		if (f) pt[i] = a | f;
	}
}

void mm_seal(void)
{
	if (sealed) return;
	pt_pool_pages = 64;
	pt_pool = page_alloc(pt_pool_pages);
	if (!pt_pool) panic("mm: no memory for page tables");
	uint64_t pool = (uint64_t)pt_pool;
	mm_map_mmio(0xfee00000, PAGE_SIZE);	/* local APIC */
	mm_map_mmio(0xfec00000, PAGE_SIZE);	/* IOAPIC */
	add_override(0, PAGE_SIZE, 0);							/* null page */
	add_override((uint64_t)__text_start, (uint64_t)__text_end, PTE_P);		/* RX */
	add_override((uint64_t)__rodata_start, (uint64_t)__rodata_end, PTE_P | PTE_NX);	/* R */
	add_override((uint64_t)boot_stack_bottom, (uint64_t)boot_stack_bottom + PAGE_SIZE, 0); /* stack guard */
	add_override(pool, pool + pt_pool_pages * PAGE_SIZE, PTE_P | PTE_NX);		/* tables: R */

	uint64_t *pml4 = pt_new();
	uint64_t top = 0;
	for (int i = 0; i < n_ram; i++)
		if (ram[i].end > top) top = ram[i].end;
	for (uint64_t c = 0; c < ALIGN_UP(top, MB2); c += MB2) map_chunk(pml4, c);
	for (int i = 0; i < n_ov; i++)
		if (ov[i].flags & PTE_PCD)
			for (uint64_t c = ov[i].start & ~(MB2 - 1); c < ov[i].end; c += MB2)
				if (c >= ALIGN_UP(top, MB2)) map_chunk(pml4, c);
	__asm__ volatile("mov %0, %%cr3" ::"r"(pml4) : "memory");
	sealed = true;
}
