/* sim_model.h -- demo vessels and their movement: parked at night, working in a zone by day, travelling along the river between. */
#ifndef SW_SIM_MODEL_H
#define SW_SIM_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "sim_geo.h"

enum sim_phase {
	SIM_PARKED,
	SIM_TO_ZONE,
	SIM_WORKING,
	SIM_TO_PARK,
};

/* Working hours of the schedule, local time (UTC+8), seconds of the day. */
#define SIM_WORK_START (7 * 3600)
#define SIM_WORK_END (19 * 3600)

/* One vessel. Times are monotonic seconds; "tod" is the schedule's local time
 * of day in seconds. path is owned (malloc'd) while travelling. */
struct sim_vessel {
	char name[64];
	char registration[64]; /* the plate sent in 0x0100 (UTF-8) */
	char terminal[24];     /* JT/T 808 phone number, decimal digits */
	int zone, park;        /* indexes into sim_geo zones / parks */
	int always_work;       /* load-generation terminal: never goes home */
	enum sim_phase phase;
	struct sim_pt pos;     /* true position, local metres */
	struct sim_pt anchor;  /* where it lies while parked */
	struct sim_pt target;  /* current wander target while working */
	double speed_kmh;      /* current true speed */
	double course;         /* degrees from north, clockwise */
	double cruise_kmh;     /* transit speed, 6-12 */
	double leg_kmh;        /* current wander speed, 0.3-3 */
	double leg_left;       /* metres to target; < 0: leg not planned yet */
	double ux, uy;         /* unit vector towards target */
	double mileage_m;
	struct sim_pt *path;
	size_t path_n, path_seg;
	double path_off;       /* metres along segment path_seg */
	double depart_tod, leave_tod; /* schedule window for this vessel */
	double hold_until;     /* schedule ignored before this (stagger) */
	double t_last;         /* last time the model was advanced */
	uint64_t rng;
};

/* What one location report says. */
struct sim_fix {
	double lon, lat;
	double speed_kmh;
	double course;
	uint32_t mileage_hm; /* 1/10 km */
	int satellites;
	int signal;
};

/* Reads the vessels file (a JSON array of objects with name, registration,
 * terminal, zone, parking) and resolves zone / parking codes against g.
 * *out is malloc'd, owned by the caller. Returns 0, or -1 with err set. */
int sim_fleet_load(const char *path, const struct sim_geo *g,
		   struct sim_vessel **out, size_t *n, char *err,
		   size_t errlen);

/* Fills a synthetic load-generation vessel number i: terminal base + i,
 * working in zone i % n_zones, always working. */
void sim_vessel_synthetic(struct sim_vessel *v, const struct sim_geo *g,
			  size_t i, uint64_t terminal_base);

/* Places the vessel for the start of the run. seed and index pick its random
 * stream; stagger spreads the fleet over the phases (working, in transit both
 * ways, parked) and lets them ignore the schedule for a while. k is schedule
 * seconds per real second (86400 / --day-seconds). */
void sim_vessel_start(struct sim_vessel *v, const struct sim_geo *g,
		      uint64_t seed, size_t index, int stagger, double now,
		      double tod, double k);

/* Advances the vessel to time now (schedule decisions, then motion). */
void sim_vessel_step(struct sim_vessel *v, const struct sim_geo *g, double now,
		     double tod);

/* The report for the current state: parked vessels get 2-5 m GPS jitter. */
void sim_vessel_fix(struct sim_vessel *v, const struct sim_geo *g,
		    struct sim_fix *fix);

/* Frees the vessel's path (the struct itself belongs to the caller). */
void sim_vessel_clear(struct sim_vessel *v);

const char *sim_phase_name(enum sim_phase p);

#endif
