/* registry.h -- the vessel registry as the feeds see it: identity lookups, AIS vessels, terminal events.
 *
 * Service thread only. Lookups that miss the in-memory cache go to a
 * database worker; what arrives for an identity meanwhile waits (bounded)
 * and is processed in order when the answer comes back.
 */
#ifndef SW_REGISTRY_H
#define SW_REGISTRY_H

#include <stdint.h>

#include "db.h"
#include "server.h"

struct registry;

struct registry *registry_new(struct sw_server *s);
void registry_free(struct registry *r);

/* Records that an identity (terminal phone number, MMSI, ...) tried to use a
 * feed without being in the registry, or failed to authenticate. Fire and
 * forget: the row lands in terminal_events. event: "unregistered",
 * "auth_failed" or "retired". */
void registry_terminal_event(struct sw_server *s, const char *protocol, const char *identity,
			     const char *peer, const char *event, const char *detail);

/* An AIS position for an MMSI: stored under the MMSI's vessel, which is
 * created as an `other` vessel when the MMSI is not in the registry (AIS
 * vessels are tracked, never alerted as unregistered). Takes ownership of
 * p->raw. */
void registry_ais_position(struct sw_server *s, uint32_t mmsi, struct sw_position *p);

/* AIS static and voyage data (types 5, 19, 24) kept on the vessel. Fields
 * with has_* = 0 are left as they are. */
struct vessel_static {
	char name[24];
	char callsign[12];
	char destination[24];
	int ship_type;
	double length_m, beam_m;
	long long imo;
	char ais_class;          /* 'A' or 'B', 0 unknown */
	unsigned has_name : 1, has_callsign : 1, has_destination : 1, has_ship_type : 1,
		has_dims : 1, has_imo : 1;
};
void registry_ais_static(struct sw_server *s, uint32_t mmsi, const struct vessel_static *st);

/* Looks up the vessel of a terminal phone number or an MMSI (NMEA's
 * $PSWID names either) and calls back on the service thread with the id, or
 * 0 if none; `owner` is an idmap id checked by the callback's user. */
typedef void (*registry_lookup_cb)(struct sw_server *s, uint64_t owner, int32_t vessel_id);
void registry_lookup_identity(struct sw_server *s, const char *identity, uint64_t owner,
			      registry_lookup_cb cb);

#endif
