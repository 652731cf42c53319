/* log.h -- leveled logging to stderr with UTC timestamps (structured: key=value friendly). */
#ifndef SW_LOG_H
#define SW_LOG_H

enum sw_log_level { SW_LOG_DEBUG = 0, SW_LOG_INFO, SW_LOG_WARN, SW_LOG_ERROR };

/* Messages below this level are dropped. Set once at start-up (main thread). */
void sw_log_set_level(enum sw_log_level lvl);

/* Thread-safe: one write(2) per message. */
void sw_log(enum sw_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_debug(...) sw_log(SW_LOG_DEBUG, __VA_ARGS__)
#define log_info(...) sw_log(SW_LOG_INFO, __VA_ARGS__)
#define log_warn(...) sw_log(SW_LOG_WARN, __VA_ARGS__)
#define log_error(...) sw_log(SW_LOG_ERROR, __VA_ARGS__)

#endif
