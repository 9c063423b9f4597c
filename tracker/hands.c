/* hands: vector arithmetic on three coordinates; everything is checked
 * for finiteness because landmarks come from the network. */
#include "hands.h"

#include <math.h>

/* Shorter than this, palm - elbow has no usable direction. */
#define HANDS_MIN_ARM 1e-12

static double dist(const pose_landmark *a, const pose_landmark *b)
{
    double dx = a->x - b->x, dy = a->y - b->y, dz = a->z - b->z;
    return sqrt(dx * dx + dy * dy + dz * dz);
}

static void extend_one(pose *p, int out, int elbow, int wrist, int pinky,
                       int index, int thumb, double pct)
{
    const pose_landmark *w = &p->lm[wrist], *pk = &p->lm[pinky],
                        *ix = &p->lm[index], *th = &p->lm[thumb],
                        *el = &p->lm[elbow];
    pose_landmark palm = {
        (w->x + pk->x + ix->x + th->x) / 4,
        (w->y + pk->y + ix->y + th->y) / 4,
        (w->z + pk->z + ix->z + th->z) / 4,
        fmin(fmin(w->visibility, pk->visibility),
             fmin(ix->visibility, th->visibility)),
    };
    double ax = palm.x - el->x, ay = palm.y - el->y, az = palm.z - el->z;
    double arm = sqrt(ax * ax + ay * ay + az * az);
    double reach = dist(pk, ix) * pct / 100;
    pose_landmark r = palm;
    if (arm > HANDS_MIN_ARM && isfinite(arm) && isfinite(reach)) {
        r.x += ax / arm * reach;
        r.y += ay / arm * reach;
        r.z += az / arm * reach;
    }
    if (!isfinite(r.x) || !isfinite(r.y) || !isfinite(r.z) ||
        !isfinite(r.visibility)) {
        r.x = r.y = r.z = 0;
        r.visibility = 0;
    }
    p->lm[out] = r;
}

void hands_extend(pose *p, double extension_percent)
{
    extend_one(p, POSE_LEFT_HAND, POSE_LEFT_ELBOW, POSE_LEFT_WRIST,
               POSE_LEFT_PINKY, POSE_LEFT_INDEX, POSE_LEFT_THUMB,
               extension_percent);
    extend_one(p, POSE_RIGHT_HAND, POSE_RIGHT_ELBOW, POSE_RIGHT_WRIST,
               POSE_RIGHT_PINKY, POSE_RIGHT_INDEX, POSE_RIGHT_THUMB,
               extension_percent);
}
