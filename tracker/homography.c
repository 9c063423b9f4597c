/* homography: projective mapping of pose landmarks onto the wall. The
 * denominator is checked before dividing: a landmark on the horizon line
 * of the calibration would otherwise become infinite. */
#include "homography.h"

#include <math.h>

/* |W| below this is treated as a point at infinity: normalized
 * coordinates are O(1), so W this small means a hopelessly far point. */
#define HOMOGRAPHY_MIN_W 1e-9

int homography_apply(const homography *H, double x, double y, double *ox,
                     double *oy)
{
    double X = H->h[0][0] * x + H->h[0][1] * y + H->h[0][2];
    double Y = H->h[1][0] * x + H->h[1][1] * y + H->h[1][2];
    double W = H->h[2][0] * x + H->h[2][1] * y + H->h[2][2];
    if (!(fabs(W) > HOMOGRAPHY_MIN_W))
        return -1;
    double rx = X / W, ry = Y / W;
    if (!isfinite(rx) || !isfinite(ry))
        return -1;
    *ox = rx;
    *oy = ry;
    return 0;
}

void homography_apply_pose(const homography *H, pose *p)
{
    for (int i = 0; i < POSE_BODY_LANDMARKS; i++) {
        pose_landmark *l = &p->lm[i];
        if (homography_apply(H, l->x, l->y, &l->x, &l->y) != 0) {
            l->x = l->y = 0;
            l->visibility = 0;
        }
    }
}

static double determinant(const homography *H)
{
    const double(*m)[3] = H->h;
    return m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
           m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
           m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
}

int homography_valid(const homography *H)
{
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 3; c++)
            if (!isfinite(H->h[r][c]))
                return 0;
    return fabs(determinant(H)) > 1e-12;
}

/* The adjugate over the determinant. */
int homography_invert(const homography *H, homography *out)
{
    if (!homography_valid(H))
        return -1;
    const double(*m)[3] = H->h;
    double d = determinant(H);
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 3; c++) {
            int r1 = (c + 1) % 3, r2 = (c + 2) % 3;
            int c1 = (r + 1) % 3, c2 = (r + 2) % 3;
            out->h[r][c] = (m[r1][c1] * m[r2][c2] - m[r1][c2] * m[r2][c1]) / d;
        }
    return 0;
}
