/* A fake tapi32 for the tests: the TAPI 2.x line functions smdr's ctypes binding calls, with the
 * Windows export names, the tapi.h structure layouts (pack(1), 32-bit DWORDs and handles, pointer-sized
 * DWORD_PTR) and the variable-size contract, driven by a scripted PBX (env FAKE_TAPI_SCRIPT).
 * Facts followed: /work/shared/docs/formats/tapi.md sections 1-8 (its "what the fake must reproduce").
 *
 * Script (one command per line, '#' comments):
 *   lines 101 102 103            addresses of line devices 0, 1, 2 (first line of the script)
 *   wait_open N                  wait (up to 10 s) until the current app has N lines open (after a reinit:
 *                                the app that initialized again)
 *   sleep MS                     wait MS milliseconds
 *   call NAME ADDR k=v ...       a new call on that line: LINE_APPNEWCALL (callid, related, origin, reason,
 *                                caller, callername, called, calledname, connected, redirecting, redirection)
 *   state NAME STATE [MODE]      LINE_CALLSTATE (offering, accepted, dialtone, dialing, ringback, busy,
 *                                connected, proceeding, onhold, onholdpendtransfer, disconnected, idle, unknown)
 *   info NAME k=v ...            change party fields, then LINE_CALLINFO with the LINECALLINFOSTATE_ bits
 *   reinit [HOLD_MS]             LINE_LINEDEVSTATE(REINIT); lineInitializeEx answers LINEERR_REINIT until
 *                                the app has shut down and HOLD_MS more have passed
 *   close ADDR                   LINE_CLOSE for that line (the TSP closed it)
 * Env: FAKE_TAPI_LOG=path (what the app did, one line per call), FAKE_TAPI_GROW=N (a call's Display grows by
 * N bytes on every lineGetCallInfoW, to test the grow-and-retry loop), FAKE_TAPI_NO_NUL=1 (number fields
 * without a trailing NUL), FAKE_TAPI_LOG_STATES=1 (log the wall-clock time each call state is queued: bench).
 */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef uint32_t DWORD;
typedef int32_t LONG;
typedef uintptr_t DWORD_PTR;
typedef uint16_t WCHAR;

#define LINEERR_BADDEVICEID 0x80000002u
#define LINEERR_INCOMPATIBLEAPIVERSION 0x8000000Cu
#define LINEERR_INVALAPPHANDLE 0x80000014u
#define LINEERR_INVALCALLHANDLE 0x80000018u
#define LINEERR_INVALLINEHANDLE 0x8000002Bu
#define LINEERR_INVALPARAM 0x80000032u
#define LINEERR_INVALPOINTER 0x80000035u
#define LINEERR_INVALPRIVSELECT 0x80000036u
#define LINEERR_NOTOWNER 0x80000046u
#define LINEERR_OPERATIONFAILED 0x80000048u
#define LINEERR_STRUCTURETOOSMALL 0x8000004Du
#define LINEERR_REINIT 0x80000052u

#define LINE_CALLINFO 1
#define LINE_CALLSTATE 2
#define LINE_CLOSE 3
#define LINE_LINEDEVSTATE 8
#define LINE_REPLY 12
#define LINE_APPNEWCALL 23
#define LINEDEVSTATE_REINIT 0x00040000u
#define LINECALLPRIVILEGE_MONITOR 0x2u
#define LINECALLPRIVILEGE_OWNER 0x4u
#define FAKE_LO_VERSION 0x00010004u
#define FAKE_HI_VERSION 0x00020002u

#pragma pack(push, 1)
typedef struct {
    DWORD hDevice, dwMessageID;
    DWORD_PTR dwCallbackInstance, dwParam1, dwParam2, dwParam3;
} LINEMESSAGE;

typedef struct {
    DWORD dwTotalSize, dwNeededSize, dwUsedSize, dwOptions;
    void *hEvent;
    DWORD dwCompletionKey;
} LINEINITIALIZEEXPARAMS;

typedef struct { DWORD a, b, c, d; } LINEEXTENSIONID;

/* LINECALLINFO, TAPI 2.x fixed part (324 bytes); party = Flags, Size, Offset, NameSize, NameOffset */
typedef struct {
    DWORD dwTotalSize, dwNeededSize, dwUsedSize, hLine, dwLineDeviceID, dwAddressID, dwBearerMode, dwRate,
        dwMediaMode, dwAppSpecific, dwCallID, dwRelatedCallID, dwCallParamFlags, dwCallStates,
        dwMonitorDigitModes, dwMonitorMediaModes, DialParams[4], dwOrigin, dwReason, dwCompletionID,
        dwNumOwners, dwNumMonitors, dwCountryCode, dwTrunk;
    DWORD party[5][5]; /* CallerID, CalledID, ConnectedID, RedirectionID, RedirectingID */
    DWORD dwAppNameSize, dwAppNameOffset, dwDisplayableAddressSize, dwDisplayableAddressOffset,
        dwCalledPartySize, dwCalledPartyOffset, dwCommentSize, dwCommentOffset, dwDisplaySize, dwDisplayOffset,
        dwUserUserInfoSize, dwUserUserInfoOffset, dwHighLevelCompSize, dwHighLevelCompOffset,
        dwLowLevelCompSize, dwLowLevelCompOffset, dwChargingInfoSize, dwChargingInfoOffset,
        dwTerminalModesSize, dwTerminalModesOffset, dwDevSpecificSize, dwDevSpecificOffset;
    DWORD dwCallTreatment, dwCallDataSize, dwCallDataOffset, dwSendingFlowspecSize, dwSendingFlowspecOffset,
        dwReceivingFlowspecSize, dwReceivingFlowspecOffset;
} LINECALLINFO;
#pragma pack(pop)

_Static_assert(sizeof(LINEMESSAGE) == 8 + 4 * sizeof(void *), "LINEMESSAGE 24 (x86) / 40 (x64)");
_Static_assert(sizeof(LINEINITIALIZEEXPARAMS) == 20 + sizeof(void *), "LINEINITIALIZEEXPARAMS 24 / 28");
_Static_assert(sizeof(LINECALLINFO) == 324, "LINECALLINFO 2.x fixed part");
_Static_assert(offsetof(LINECALLINFO, dwCallID) == 40 && offsetof(LINECALLINFO, dwRelatedCallID) == 44, "ids");
_Static_assert(offsetof(LINECALLINFO, dwOrigin) == 80 && offsetof(LINECALLINFO, dwReason) == 84, "origin");
_Static_assert(offsetof(LINECALLINFO, party) == 108 && offsetof(LINECALLINFO, dwAppNameSize) == 208, "parties");
_Static_assert(offsetof(LINECALLINFO, dwDisplaySize) == 240 && offsetof(LINECALLINFO, dwCallTreatment) == 296, "");

/* LINEDEVCAPS / LINEADDRESSCAPS as DWORD arrays (all members are DWORD-sized): byte offset / 4 */
enum { DC_PROVIDER = 3, DC_PERMANENT_ID = 7, DC_LINENAME = 8, DC_STRINGFORMAT = 10, DC_NUMADDRESSES = 12,
       DC_MEDIAMODES = 15, DC_LINESTATES = 32 };
enum { AC_LINEDEVICEID = 3, AC_ADDRESS = 4 };

#define MAX_LINES 16
#define MAX_CALLS 256
#define MAX_MESSAGES 1024
#define TEXT 96

typedef struct {
    char addr[16];
    DWORD hline;          /* 0 = not open */
    DWORD_PTR instance;
    DWORD privileges, version;
} Line;

typedef struct {
    char name[16];
    int line, in_use;
    DWORD hcall, state, privilege, callid, related, origin, reason, grow, infocalls;
    char parties[5][2][TEXT]; /* id, name for caller, called, connected, redirection, redirecting */
} Call;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static Line lines[MAX_LINES];
static int line_count;
static Call calls[MAX_CALLS];
static int call_count;
static LINEMESSAGE queue[MAX_MESSAGES];
static int q_head, q_len;
static DWORD app;               /* current hLineApp, 0 = none */
static DWORD next_app = 0x51, next_call = 0x10001, next_request = 1, generation;
static int reinit_pending, script_started, event_token;
static struct timespec reinit_until;
static DWORD grow_bytes;
static int no_nul;

static void log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#include <stdarg.h>
static void log_line(const char *fmt, ...) {
    const char *path = getenv("FAKE_TAPI_LOG");
    if (!path) return;
    FILE *f = fopen(path, "a");
    if (!f) return;
    va_list args;
    va_start(args, fmt);
    vfprintf(f, fmt, args);
    va_end(args);
    fputc('\n', f);
    fclose(f);
}

static void now_plus(struct timespec *ts, long ms) {
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) { ts->tv_sec++; ts->tv_nsec -= 1000000000L; }
}

static int before(const struct timespec *a, const struct timespec *b) {
    return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* called with the lock held */
static void push(DWORD device, DWORD id, DWORD_PTR instance, DWORD_PTR p1, DWORD_PTR p2, DWORD_PTR p3) {
    if (!app || q_len == MAX_MESSAGES) return;
    LINEMESSAGE *m = &queue[(q_head + q_len++) % MAX_MESSAGES];
    m->hDevice = device; m->dwMessageID = id; m->dwCallbackInstance = instance;
    m->dwParam1 = p1; m->dwParam2 = p2; m->dwParam3 = p3;
    pthread_cond_broadcast(&changed);
}

static Line *line_by_handle(DWORD h) {
    for (int i = 0; i < line_count; i++) if (h && lines[i].hline == h) return &lines[i];
    return NULL;
}

static Call *call_by_handle(DWORD h) {
    for (int i = 0; i < call_count; i++) if (calls[i].in_use && calls[i].hcall == h) return &calls[i];
    return NULL;
}

static Call *call_by_name(const char *name) {
    for (int i = call_count - 1; i >= 0; i--) if (!strcmp(calls[i].name, name)) return &calls[i];
    return NULL;
}

/* UTF-8 -> UTF-16LE code units (BMP only), NUL-terminated; returns bytes including the NUL */
static DWORD widen(const char *text, WCHAR *out, int with_nul) {
    DWORD n = 0;
    const unsigned char *s = (const unsigned char *)text;
    while (*s) {
        unsigned c = *s++;
        if (c >= 0xE0 && s[0] && s[1]) { c = ((c & 0x0F) << 12) | ((s[0] & 0x3F) << 6) | (s[1] & 0x3F); s += 2; }
        else if (c >= 0xC0 && s[0]) { c = ((c & 0x1F) << 6) | (s[0] & 0x3F); s += 1; }
        out[n++] = (WCHAR)c;
    }
    if (with_nul) out[n++] = 0;
    return n * 2;
}

/* Copies a variable field if it fits in the caller's buffer (else 0/0); dwNeededSize counts it anyway. */
static void put_var(unsigned char *base, DWORD total, DWORD *used, DWORD *needed, DWORD *size, DWORD *offset,
                    const void *data, DWORD length) {
    *size = 0; *offset = 0;
    if (!length) return;
    *needed += length;
    if (*used + length > total) return;
    memcpy(base + *used, data, length);
    *size = length; *offset = *used;
    *used += length;
}

static void put_text(unsigned char *base, DWORD total, DWORD *used, DWORD *needed, DWORD *size, DWORD *offset,
                     const char *text, int with_nul) {
    WCHAR wide[TEXT + 1];
    if (!text[0]) { *size = 0; *offset = 0; return; }
    put_var(base, total, used, needed, size, offset, wide, widen(text, wide, with_nul));
}

static DWORD parse_state(const char *s) {
    static const char *names[] = {"idle", "offering", "accepted", "dialtone", "dialing", "ringback", "busy",
                                  "specialinfo", "connected", "proceeding", "onhold", "conferenced",
                                  "onholdpendconf", "onholdpendtransfer", "disconnected", "unknown"};
    for (int i = 0; i < 16; i++) if (!strcmp(s, names[i])) return 1u << i;
    return 0;
}

static DWORD parse_origin(const char *s) {
    if (!strcmp(s, "outbound")) return 0x1;
    if (!strcmp(s, "internal")) return 0x2;
    if (!strcmp(s, "external")) return 0x4;
    if (!strcmp(s, "inbound")) return 0x80;
    if (!strcmp(s, "unavail")) return 0x20;
    return 0x10;
}

static DWORD parse_reason(const char *s) {
    if (!strcmp(s, "direct")) return 0x1;
    if (!strcmp(s, "fwdbusy")) return 0x2;
    if (!strcmp(s, "fwdnoanswer")) return 0x4;
    if (!strcmp(s, "pickup")) return 0x10;
    if (!strcmp(s, "redirect")) return 0x40;
    if (!strcmp(s, "transfer")) return 0x100;
    return 0x400;
}

/* k=v party and id fields; returns the LINECALLINFOSTATE_ bits that changed */
static DWORD apply_fields(Call *c, char *rest) {
    static const char *party_names[5] = {"caller", "called", "connected", "redirection", "redirecting"};
    static const DWORD party_bits[5] = {0x8000, 0x10000, 0x20000, 0x40000, 0x80000};
    DWORD bits = 0;
    for (char *tok = strtok(rest, " \t\r\n"); tok; tok = strtok(NULL, " \t\r\n")) {
        char *eq = strchr(tok, '=');
        if (!eq) continue;
        *eq = 0;
        const char *v = eq + 1;
        if (!strcmp(tok, "callid")) { c->callid = (DWORD)strtoul(v, NULL, 0); bits |= 0x40; }
        else if (!strcmp(tok, "related")) { c->related = (DWORD)strtoul(v, NULL, 0); bits |= 0x80; }
        else if (!strcmp(tok, "origin")) { c->origin = parse_origin(v); bits |= 0x100; }
        else if (!strcmp(tok, "reason")) { c->reason = parse_reason(v); bits |= 0x200; }
        else if (!strcmp(tok, "grow")) c->grow = (DWORD)strtoul(v, NULL, 0);
        else for (int p = 0; p < 5; p++) {
            size_t n = strlen(party_names[p]);
            if (strncmp(tok, party_names[p], n)) continue;
            int is_name = !strcmp(tok + n, "name");
            if (!is_name && tok[n]) continue;
            snprintf(c->parties[p][is_name], TEXT, "%s", v);
            bits |= party_bits[p];
        }
    }
    return bits;
}

static int open_lines(void) {
    int n = 0;
    for (int i = 0; i < line_count; i++) n += lines[i].hline != 0;
    return n;
}

static void run_command(char *cmd) {
    char word[32] = "", name[16] = "", arg[64] = "";
    int consumed = 0;
    if (sscanf(cmd, "%31s%n", word, &consumed) != 1 || word[0] == '#') return;
    char *rest = cmd + consumed;
    if (!strcmp(word, "sleep")) {
        struct timespec ts = {0, 0};
        long ms = strtol(rest, NULL, 10);
        ts.tv_sec = ms / 1000; ts.tv_nsec = (ms % 1000) * 1000000L;
        nanosleep(&ts, NULL);
        return;
    }
    pthread_mutex_lock(&lock);
    if (!strcmp(word, "wait_open")) {
        int want = atoi(rest);
        struct timespec deadline;
        now_plus(&deadline, 10000);
        while (open_lines() < want || !app || reinit_pending)
            if (pthread_cond_timedwait(&changed, &lock, &deadline) == ETIMEDOUT) break;
    } else if (!strcmp(word, "call") && call_count < MAX_CALLS && sscanf(rest, "%15s %63s%n", name, arg, &consumed) == 2) {
        Call *c = &calls[call_count++];
        memset(c, 0, sizeof *c);
        snprintf(c->name, sizeof c->name, "%s", name);
        c->line = -1;
        for (int i = 0; i < line_count; i++) if (!strcmp(lines[i].addr, arg)) c->line = i;
        c->origin = 0x10; c->reason = 0x1;
        apply_fields(c, rest + consumed);
        Line *l = c->line >= 0 ? &lines[c->line] : NULL;
        if (l && l->hline) {
            c->in_use = 1;
            c->hcall = next_call++;
            c->privilege = (l->privileges & LINECALLPRIVILEGE_OWNER) ? LINECALLPRIVILEGE_OWNER : LINECALLPRIVILEGE_MONITOR;
            push(l->hline, LINE_APPNEWCALL, l->instance, 0, c->hcall, c->privilege);
        }
    } else if (!strcmp(word, "state") && sscanf(rest, "%15s %63s%n", name, arg, &consumed) == 2) {
        Call *c = call_by_name(name);
        if (c && c->in_use) {
            DWORD mode = (DWORD)strtoul(rest + consumed, NULL, 0);
            int first = c->state == 0;
            if (getenv("FAKE_TAPI_LOG_STATES")) {
                struct timespec now;
                clock_gettime(CLOCK_REALTIME, &now);
                log_line("pushed %s %s t=%ld.%06ld", name, arg, (long)now.tv_sec, now.tv_nsec / 1000);
            }
            c->state = parse_state(arg);
            Line *l = &lines[c->line];
            push(c->hcall, LINE_CALLSTATE, l->instance, c->state, mode ? mode : 1, first ? c->privilege : 0);
        }
    } else if (!strcmp(word, "info") && sscanf(rest, "%15s%n", name, &consumed) == 1) {
        Call *c = call_by_name(name);
        if (c && c->in_use && c->state != 1) {
            DWORD bits = apply_fields(c, rest + consumed);
            push(c->hcall, LINE_CALLINFO, lines[c->line].instance, bits, 0, 0);
        }
    } else if (!strcmp(word, "reinit")) {
        reinit_pending = 1;
        now_plus(&reinit_until, strtol(rest, NULL, 10));
        push(0, LINE_LINEDEVSTATE, 0, LINEDEVSTATE_REINIT, 0, 0);
    } else if (!strcmp(word, "close") && sscanf(rest, "%63s", arg) == 1) {
        for (int i = 0; i < line_count; i++)
            if (!strcmp(lines[i].addr, arg) && lines[i].hline) {
                push(lines[i].hline, LINE_CLOSE, lines[i].instance, 0, 0, 0);
                lines[i].hline = 0;
            }
    }
    pthread_mutex_unlock(&lock);
}

static void *script_thread(void *path) {
    FILE *f = fopen((const char *)path, "r");
    char buffer[512];
    if (!f) return NULL;
    while (fgets(buffer, sizeof buffer, f)) {
        if (!strncmp(buffer, "lines", 5)) continue;
        run_command(buffer);
    }
    fclose(f);
    log_line("script done");
    return NULL;
}

static void load_lines(void) {
    const char *path = getenv("FAKE_TAPI_SCRIPT");
    char buffer[512];
    FILE *f = path ? fopen(path, "r") : NULL;
    const char *g = getenv("FAKE_TAPI_GROW");
    grow_bytes = g ? (DWORD)strtoul(g, NULL, 10) : 0;
    no_nul = getenv("FAKE_TAPI_NO_NUL") != NULL;
    if (!f) return;
    while (fgets(buffer, sizeof buffer, f)) {
        if (strncmp(buffer, "lines", 5)) continue;
        for (char *tok = strtok(buffer + 5, " \t\r\n"); tok && line_count < MAX_LINES; tok = strtok(NULL, " \t\r\n"))
            snprintf(lines[line_count++].addr, sizeof lines[0].addr, "%s", tok);
        break;
    }
    fclose(f);
}

/* ---- the exports ---------------------------------------------------------------------------- */

LONG lineInitializeExW(DWORD *lphLineApp, void *hInstance, void *callback, const WCHAR *appName,
                       DWORD *lpdwNumDevs, DWORD *lpdwAPIVersion, LINEINITIALIZEEXPARAMS *params) {
    (void)hInstance; (void)callback; (void)appName;
    if (!lphLineApp || !lpdwNumDevs || !lpdwAPIVersion || !params) return (LONG)LINEERR_INVALPOINTER;
    if (params->dwTotalSize < sizeof(LINEINITIALIZEEXPARAMS)) return (LONG)LINEERR_STRUCTURETOOSMALL;
    if (params->dwOptions != 2) return (LONG)LINEERR_INVALPARAM; /* only event mode is faked */
    pthread_mutex_lock(&lock);
    struct timespec now;
    now_plus(&now, 0);
    if (reinit_pending && (app || before(&now, &reinit_until))) {
        pthread_mutex_unlock(&lock);
        log_line("initialize refused: reinit pending");
        return (LONG)LINEERR_REINIT;
    }
    reinit_pending = 0;
    if (!script_started) {
        load_lines();
        script_started = 1;
        const char *path = getenv("FAKE_TAPI_SCRIPT");
        pthread_t thread;
        if (path && !pthread_create(&thread, NULL, script_thread, (void *)path)) pthread_detach(thread);
    }
    app = next_app++;
    generation++;
    q_head = q_len = 0;
    *lphLineApp = app;
    *lpdwNumDevs = (DWORD)line_count;
    *lpdwAPIVersion = 0x00030001u;
    params->dwNeededSize = params->dwUsedSize = sizeof(LINEINITIALIZEEXPARAMS);
    params->hEvent = &event_token;
    log_line("initialize app=%u asked=0x%08x", app, *lpdwAPIVersion);
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
    return 0;
}

LONG lineNegotiateAPIVersion(DWORD hLineApp, DWORD dev, DWORD lo, DWORD hi, DWORD *version, LINEEXTENSIONID *ext) {
    if (!version || !ext) return (LONG)LINEERR_INVALPOINTER;
    if (!app || hLineApp != app) return (LONG)LINEERR_INVALAPPHANDLE;
    if (dev >= (DWORD)line_count) return (LONG)LINEERR_BADDEVICEID;
    DWORD best = hi < FAKE_HI_VERSION ? hi : FAKE_HI_VERSION;
    if (best < lo || best < FAKE_LO_VERSION) return (LONG)LINEERR_INCOMPATIBLEAPIVERSION;
    *version = best;
    memset(ext, 0, sizeof *ext);
    return 0;
}

static DWORD devcaps_fixed(DWORD version) {
    return version >= 0x00020002u ? 268 : version >= 0x00020000u ? 252 : 240;
}

LONG lineGetDevCapsW(DWORD hLineApp, DWORD dev, DWORD version, DWORD extVersion, DWORD *caps) {
    (void)extVersion;
    if (!caps) return (LONG)LINEERR_INVALPOINTER;
    if (!app || hLineApp != app) return (LONG)LINEERR_INVALAPPHANDLE;
    if (dev >= (DWORD)line_count) return (LONG)LINEERR_BADDEVICEID;
    DWORD fixed = devcaps_fixed(version), total = caps[0];
    if (total < fixed) return (LONG)LINEERR_STRUCTURETOOSMALL;
    memset(caps + 1, 0, fixed - 4);
    DWORD used = fixed, needed = fixed;
    char name[48];
    snprintf(name, sizeof name, "Ext %s", lines[dev].addr);
    put_text((unsigned char *)caps, total, &used, &needed, &caps[DC_PROVIDER], &caps[DC_PROVIDER + 1],
             "smdr fake TSP 1.0", 1);
    put_text((unsigned char *)caps, total, &used, &needed, &caps[DC_LINENAME], &caps[DC_LINENAME + 1], name, 1);
    caps[DC_PERMANENT_ID] = 0x1000 + dev;
    caps[DC_STRINGFORMAT] = 3;
    caps[DC_NUMADDRESSES] = 1;
    caps[DC_MEDIAMODES] = 0x4;
    caps[DC_LINESTATES] = 0x00040000u | 0x400 | 0x200;
    caps[1] = needed; caps[2] = used;
    return 0;
}

LONG lineGetAddressCapsW(DWORD hLineApp, DWORD dev, DWORD addressId, DWORD version, DWORD extVersion, DWORD *caps) {
    (void)extVersion;
    if (!caps) return (LONG)LINEERR_INVALPOINTER;
    if (!app || hLineApp != app) return (LONG)LINEERR_INVALAPPHANDLE;
    if (dev >= (DWORD)line_count) return (LONG)LINEERR_BADDEVICEID;
    if (addressId != 0) return (LONG)0x80000011u;
    DWORD fixed = version >= 0x00020000u ? 228 : 180, total = caps[0];
    if (total < fixed) return (LONG)LINEERR_STRUCTURETOOSMALL;
    memset(caps + 1, 0, fixed - 4);
    DWORD used = fixed, needed = fixed;
    caps[AC_LINEDEVICEID] = dev;
    put_text((unsigned char *)caps, total, &used, &needed, &caps[AC_ADDRESS], &caps[AC_ADDRESS + 1], lines[dev].addr, 1);
    caps[1] = needed; caps[2] = used;
    return 0;
}

LONG lineOpenW(DWORD hLineApp, DWORD dev, DWORD *lphLine, DWORD version, DWORD extVersion, DWORD_PTR instance,
               DWORD privileges, DWORD mediaModes, void *callParams) {
    (void)extVersion; (void)mediaModes; (void)callParams;
    if (!lphLine) return (LONG)LINEERR_INVALPOINTER;
    pthread_mutex_lock(&lock);
    LONG rc = 0;
    DWORD base = privileges & 0xFFFF;
    if (!app || hLineApp != app) rc = (LONG)LINEERR_INVALAPPHANDLE;
    else if (dev >= (DWORD)line_count) rc = (LONG)LINEERR_BADDEVICEID;
    else if (version < FAKE_LO_VERSION || version > FAKE_HI_VERSION) rc = (LONG)LINEERR_INCOMPATIBLEAPIVERSION;
    else if (base != 1 && base != 2 && base != 4 && base != 6) rc = (LONG)LINEERR_INVALPRIVSELECT;
    else {
        Line *l = &lines[dev];
        l->hline = 0x100 * generation + dev + 1;
        l->instance = instance; l->privileges = privileges; l->version = version;
        *lphLine = l->hline;
        log_line("open line=%s priv=%u version=0x%08x", l->addr, privileges, version);
        pthread_cond_broadcast(&changed);
    }
    pthread_mutex_unlock(&lock);
    return rc;
}

LONG lineSetStatusMessages(DWORD hLine, DWORD lineStates, DWORD addressStates) {
    (void)lineStates; (void)addressStates;
    pthread_mutex_lock(&lock);
    LONG rc = line_by_handle(hLine) ? 0 : (LONG)LINEERR_INVALLINEHANDLE;
    pthread_mutex_unlock(&lock);
    return rc;
}

LONG lineGetMessage(DWORD hLineApp, LINEMESSAGE *msg, DWORD timeout) {
    if (!msg) return (LONG)LINEERR_INVALPOINTER;
    pthread_mutex_lock(&lock);
    struct timespec deadline;
    now_plus(&deadline, timeout == 0xFFFFFFFFu ? 86400000L : (long)timeout);
    while (app == hLineApp && q_len == 0 && timeout != 0)
        if (pthread_cond_timedwait(&changed, &lock, &deadline) == ETIMEDOUT) break;
    LONG rc;
    if (!app || app != hLineApp) rc = (LONG)LINEERR_INVALAPPHANDLE; /* shut down while waiting */
    else if (q_len == 0) rc = (LONG)LINEERR_OPERATIONFAILED;       /* timeout */
    else {
        *msg = queue[q_head];
        q_head = (q_head + 1) % MAX_MESSAGES;
        q_len--;
        rc = 0;
    }
    pthread_mutex_unlock(&lock);
    return rc;
}

LONG lineGetCallInfoW(DWORD hCall, LINECALLINFO *info) {
    if (!info) return (LONG)LINEERR_INVALPOINTER;
    pthread_mutex_lock(&lock);
    Call *c = call_by_handle(hCall);
    if (!c) { pthread_mutex_unlock(&lock); return (LONG)LINEERR_INVALCALLHANDLE; }
    Line *l = &lines[c->line];
    DWORD fixed = l->version >= 0x00020000u ? 324 : 296, total = info->dwTotalSize;
    if (total < fixed) { pthread_mutex_unlock(&lock); return (LONG)LINEERR_STRUCTURETOOSMALL; }
    memset((unsigned char *)info + 4, 0, fixed - 4);
    unsigned char *base = (unsigned char *)info;
    DWORD used = fixed, needed = fixed;
    info->hLine = l->hline;
    info->dwLineDeviceID = (DWORD)c->line;
    info->dwBearerMode = 1;
    info->dwMediaMode = 0x4;
    info->dwCallID = c->callid;
    info->dwRelatedCallID = c->related;
    info->dwCallStates = 0x7FFF;
    info->dwOrigin = c->origin;
    info->dwReason = c->reason;
    info->dwNumOwners = c->privilege == LINECALLPRIVILEGE_OWNER;
    info->dwNumMonitors = 1;
    info->dwTrunk = 0xFFFFFFFFu;
    for (int p = 0; p < 5; p++) {
        DWORD *party = info->party[p];
        party[0] = (c->parties[p][0][0] ? 0x8 : 0) | (c->parties[p][1][0] ? 0x4 : 0);
        if (!party[0]) party[0] = 0x20; /* LINECALLPARTYID_UNKNOWN */
        put_text(base, total, &used, &needed, &party[1], &party[2], c->parties[p][0], !no_nul);
        put_text(base, total, &used, &needed, &party[3], &party[4], c->parties[p][1], 1);
    }
    put_text(base, total, &used, &needed, &info->dwAppNameSize, &info->dwAppNameOffset, "smdr", 1);
    DWORD growth = (grow_bytes + c->grow) * ++c->infocalls;
    if (growth) {
        static unsigned char blob[65536];
        memset(blob, 'd', sizeof blob);
        put_var(base, total, &used, &needed, &info->dwDisplaySize, &info->dwDisplayOffset, blob,
                growth < sizeof blob ? growth : sizeof blob);
    }
    if (fixed >= 324) info->dwCallTreatment = 0;
    info->dwNeededSize = needed;
    info->dwUsedSize = used;
    pthread_mutex_unlock(&lock);
    return 0;
}

LONG lineGetCallStatus(DWORD hCall, DWORD *status) {
    if (!status) return (LONG)LINEERR_INVALPOINTER;
    pthread_mutex_lock(&lock);
    Call *c = call_by_handle(hCall);
    LONG rc = 0;
    if (!c) rc = (LONG)LINEERR_INVALCALLHANDLE;
    else if (status[0] < 36) rc = (LONG)LINEERR_STRUCTURETOOSMALL;
    else {
        DWORD fixed = status[0] >= 56 ? 56 : 36;
        memset(status + 1, 0, fixed - 4);
        status[1] = status[2] = fixed;
        status[3] = c->state;
        status[5] = c->privilege;
    }
    pthread_mutex_unlock(&lock);
    return rc;
}

typedef struct { DWORD hcall, hline; } Dialed;

static void *dialed_call(void *arg) {
    Dialed d = *(Dialed *)arg;
    free(arg);
    static const DWORD states[] = {0x200, 0x20, 0x100}; /* proceeding, ringback, connected */
    for (int i = 0; i < 3; i++) {
        struct timespec ts = {0, 20000000L};
        nanosleep(&ts, NULL);
        pthread_mutex_lock(&lock);
        Call *c = call_by_handle(d.hcall);
        Line *l = line_by_handle(d.hline);
        if (c && l) {
            c->state = states[i];
            push(c->hcall, LINE_CALLSTATE, l->instance, states[i], 1, 0);
        }
        pthread_mutex_unlock(&lock);
    }
    return NULL;
}

LONG lineMakeCallW(DWORD hLine, DWORD *lphCall, const WCHAR *dest, DWORD countryCode, void *callParams) {
    (void)countryCode; (void)callParams;
    if (!lphCall || !dest) return (LONG)LINEERR_INVALPOINTER;
    pthread_mutex_lock(&lock);
    Line *l = line_by_handle(hLine);
    if (!l || call_count >= MAX_CALLS) { pthread_mutex_unlock(&lock); return (LONG)LINEERR_INVALLINEHANDLE; }
    Call *c = &calls[call_count++];
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "dial%u", next_request);
    c->line = (int)(l - lines);
    c->in_use = 1;
    c->hcall = next_call++;
    c->privilege = LINECALLPRIVILEGE_OWNER;
    c->origin = 0x1; c->reason = 0x1;
    c->callid = 9000 + next_request;
    int n = 0;
    for (; dest[n] && n < TEXT - 1; n++) c->parties[1][0][n] = (char)dest[n];
    c->parties[1][0][n] = 0;
    snprintf(c->parties[0][0], TEXT, "%s", l->addr);
    DWORD request = next_request++;
    *lphCall = c->hcall; /* written before LINE_REPLY is queued */
    push(0, LINE_REPLY, l->instance, request, 0, 0);
    log_line("makecall line=%s dest=%s priv=%u request=%u", l->addr, c->parties[1][0], l->privileges, request);
    Dialed *d = malloc(sizeof *d);
    pthread_t thread;
    if (d) {
        d->hcall = c->hcall; d->hline = hLine;
        if (!pthread_create(&thread, NULL, dialed_call, d)) pthread_detach(thread); else free(d);
    }
    pthread_mutex_unlock(&lock);
    return (LONG)request;
}

LONG lineDrop(DWORD hCall, const char *userUserInfo, DWORD size) {
    (void)userUserInfo; (void)size;
    pthread_mutex_lock(&lock);
    Call *c = call_by_handle(hCall);
    LONG rc;
    if (!c) rc = (LONG)LINEERR_INVALCALLHANDLE;
    else if (c->privilege != LINECALLPRIVILEGE_OWNER) rc = (LONG)LINEERR_NOTOWNER;
    else {
        rc = (LONG)next_request++;
        Line *l = &lines[c->line];
        push(0, LINE_REPLY, l->instance, (DWORD)rc, 0, 0);
        c->state = 1;
        push(c->hcall, LINE_CALLSTATE, l->instance, 1, 0, 0);
    }
    pthread_mutex_unlock(&lock);
    return rc;
}

LONG lineDeallocateCall(DWORD hCall) {
    pthread_mutex_lock(&lock);
    Call *c = call_by_handle(hCall);
    LONG rc = c ? 0 : (LONG)LINEERR_INVALCALLHANDLE;
    if (c) c->in_use = 0;
    pthread_mutex_unlock(&lock);
    return rc;
}

LONG lineClose(DWORD hLine) {
    pthread_mutex_lock(&lock);
    Line *l = line_by_handle(hLine);
    LONG rc = l ? 0 : (LONG)LINEERR_INVALLINEHANDLE;
    if (l) {
        for (int i = 0; i < call_count; i++) if (calls[i].line == (int)(l - lines)) calls[i].in_use = 0;
        l->hline = 0;
    }
    pthread_mutex_unlock(&lock);
    return rc;
}

LONG lineShutdown(DWORD hLineApp) {
    pthread_mutex_lock(&lock);
    LONG rc = 0;
    if (!app || hLineApp != app) rc = (LONG)LINEERR_INVALAPPHANDLE;
    else {
        for (int i = 0; i < line_count; i++) lines[i].hline = 0;
        for (int i = 0; i < call_count; i++) calls[i].in_use = 0;
        app = 0;
        q_len = 0;
        log_line("shutdown app=%u", hLineApp);
        pthread_cond_broadcast(&changed); /* a blocked lineGetMessage returns INVALAPPHANDLE */
    }
    pthread_mutex_unlock(&lock);
    return rc;
}
