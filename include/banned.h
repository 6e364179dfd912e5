#ifndef PGB_BANNED_H
#define PGB_BANNED_H

/*
 * banned.h - included last by every .c file: functions whose use invites
 * overflows or hidden state.  Use snprintf, memcpy with lengths, strtol.
 */
#undef strcpy
#define strcpy(a, b)	pgb_banned_strcpy_use_memcpy
#undef strcat
#define strcat(a, b)	pgb_banned_strcat_use_buf
#undef sprintf
#define sprintf(...)	pgb_banned_sprintf_use_snprintf
#undef strtok
#define strtok(a, b)	pgb_banned_strtok_use_strcspn
#undef atoi
#define atoi(a)		pgb_banned_atoi_use_strtol

#endif /* PGB_BANNED_H */
