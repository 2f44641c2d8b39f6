using System.Drawing;
using CsCheck;
using FaceIndex.Vision.Internal;

namespace FaceIndex.Vision.Tests;

/// <summary>The 5-point least-squares similarity and the warp: exact on known transforms, deterministic on real faces.</summary>
[Collection(PipelineCollection.Name)]
public sealed class AlignmentTests(PipelineFixture fixture)
{
    private readonly FacePipeline _pipeline = fixture.Pipeline;

    [Fact]
    public void The_reference_points_map_onto_themselves()
    {
        var (a, b, tx, ty) = FaceAligner.EstimateSimilarity(FaceAligner.Reference, FaceAligner.Reference);
        Assert.Equal(1, a, 9);
        Assert.Equal(0, b, 9);
        Assert.Equal(0, tx, 6);
        Assert.Equal(0, ty, 6);
    }

    [Fact]
    public void A_known_similarity_is_recovered_exactly()
    {
        Gen.Select(Gen.Double[0.05, 20], Gen.Double[-Math.PI, Math.PI], Gen.Double[-2000, 2000], Gen.Double[-2000, 2000])
            .Sample((scale, angle, tx, ty) =>
            {
                // src = points in an image; dst = reference. Build src = T⁻¹(reference) for T = (scale, angle, t).
                double a = scale * Math.Cos(angle), b = scale * Math.Sin(angle), det = (a * a) + (b * b);
                var src = new PointF[5];
                for (int i = 0; i < 5; i++)
                {
                    double dx = FaceAligner.Reference[i].X - tx, dy = FaceAligner.Reference[i].Y - ty;
                    src[i] = new PointF((float)(((a * dx) + (b * dy)) / det), (float)(((-b * dx) + (a * dy)) / det));
                }

                var (ea, eb, etx, ety) = FaceAligner.EstimateSimilarity(src, FaceAligner.Reference);
                double tolerance = 1e-4 * Math.Max(1, scale);
                return Math.Abs(ea - a) < tolerance && Math.Abs(eb - b) < tolerance
                    && Math.Abs(etx - tx) < 1e-2 * Math.Max(1, scale) && Math.Abs(ety - ty) < 1e-2 * Math.Max(1, scale);
            }, iter: 500, seed: "0N0XIzNsQ0O2");
    }

    [Fact]
    public void Noisy_points_give_the_least_squares_fit()
    {
        // The fit's residual is no larger than that of small perturbations of the fitted transform.
        var src = new PointF[] { new(100, 120), new(160, 118), new(131, 150), new(108, 182), new(157, 179) };
        var (a, b, tx, ty) = FaceAligner.EstimateSimilarity(src, FaceAligner.Reference);
        double best = Residual(src, a, b, tx, ty);
        foreach (var (da, db, dt) in new[] { (1e-3, 0.0, 0.0), (-1e-3, 0.0, 0.0), (0.0, 1e-3, 0.0), (0.0, -1e-3, 0.0), (0.0, 0.0, 0.05), (0.0, 0.0, -0.05) })
        {
            Assert.True(Residual(src, a + da, b + db, tx + dt, ty - dt) >= best);
        }
    }

    [Fact]
    public void The_warp_puts_the_five_points_on_the_reference_positions()
    {
        // A grey image with a bright dot at each of 5 points: the reference pattern turned by 0.35 rad,
        // enlarged 2.5× and centred in the image. Aligned, each dot's centroid sits on its reference point.
        const int Side = 500;
        const double Scale = 2.5, Angle = 0.35;
        double rx = 0, ry = 0;
        foreach (var p in FaceAligner.Reference)
        {
            rx += p.X / 5;
            ry += p.Y / 5;
        }

        var points = new PointF[5];
        using var image = new RgbImage(Side, Side);
        image.Pixels.Fill(20);
        for (int i = 0; i < 5; i++)
        {
            double dx = FaceAligner.Reference[i].X - rx, dy = FaceAligner.Reference[i].Y - ry;
            points[i] = new PointF(
                (float)((Side / 2.0) + (Scale * ((Math.Cos(Angle) * dx) - (Math.Sin(Angle) * dy)))),
                (float)((Side / 2.0) + (Scale * ((Math.Sin(Angle) * dx) + (Math.Cos(Angle) * dy)))));
            DrawDot(image, points[i], radius: 5);
        }

        var planes = new float[FaceAligner.TensorLength];
        FaceAligner.Align(image, points, planes);
        for (int i = 0; i < 5; i++)
        {
            var c = Centroid(planes, FaceAligner.Reference[i], window: 5);
            Assert.True(Math.Abs(c.X - FaceAligner.Reference[i].X) < 0.25 && Math.Abs(c.Y - FaceAligner.Reference[i].Y) < 0.25, $"point {i}: dot at {c}, reference {FaceAligner.Reference[i]}");
        }
    }

    [Fact]
    public async Task Alignment_and_embedding_are_deterministic()
    {
        var bytes = TestImages.Deepface("img16.jpg");
        var first = _pipeline.Prepare(bytes, centreCropFallback: false);
        var second = _pipeline.Prepare(bytes, centreCropFallback: false);
        try
        {
            Assert.Equal(first.Faces.Count, second.Faces.Count);
            for (int i = 0; i < first.Faces.Count; i++)
            {
                Assert.Equal(first.Faces[i].Points, second.Faces[i].Points);
                Assert.True(first.Faces[i].Aligned.AsSpan(0, FaceAligner.TensorLength).SequenceEqual(second.Faces[i].Aligned.AsSpan(0, FaceAligner.TensorLength)));
            }
        }
        finally
        {
            first.Faces.ForEach(f => f.Release());
            second.Faces.ForEach(f => f.Release());
        }

        var a = await _pipeline.AnalyzeAsync(bytes);
        var b = await _pipeline.AnalyzeAsync(bytes);
        Assert.Equal(a[0].Vector, b[0].Vector);
        Assert.Equal(a[0].Embedding512, b[0].Embedding512);
    }

    [Fact]
    public void Mirroring_twice_gives_the_original()
    {
        var planes = new float[FaceAligner.TensorLength];
        var random = new Random(3);
        for (int i = 0; i < planes.Length; i++)
        {
            planes[i] = (float)random.NextDouble();
        }

        var once = new float[planes.Length];
        var twice = new float[planes.Length];
        FaceAligner.Mirror(planes, once);
        FaceAligner.Mirror(once, twice);
        Assert.Equal(planes, twice);
        Assert.Equal(planes[5], once[FaceAligner.Size - 1 - 5]);
        Assert.Equal(planes[(2 * FaceAligner.Size * FaceAligner.Size) + 7], once[(2 * FaceAligner.Size * FaceAligner.Size) + FaceAligner.Size - 1 - 7]);
    }

    private static double Residual(PointF[] src, double a, double b, double tx, double ty)
    {
        double sum = 0;
        for (int i = 0; i < src.Length; i++)
        {
            double x = (a * src[i].X) - (b * src[i].Y) + tx - FaceAligner.Reference[i].X;
            double y = (b * src[i].X) + (a * src[i].Y) + ty - FaceAligner.Reference[i].Y;
            sum += (x * x) + (y * y);
        }

        return sum;
    }

    private static void DrawDot(RgbImage image, PointF centre, int radius)
    {
        var pixels = image.Pixels;
        for (int y = (int)centre.Y - radius - 1; y <= (int)centre.Y + radius + 1; y++)
        {
            for (int x = (int)centre.X - radius - 1; x <= (int)centre.X + radius + 1; x++)
            {
                // Anti-aliased disc: coverage by 4×4 supersampling, so the centroid is exact to a fraction of a pixel.
                int inside = 0;
                for (int s = 0; s < 16; s++)
                {
                    double px = x + ((s % 4) + 0.5) / 4 - 0.5 - centre.X, py = y + ((s / 4) + 0.5) / 4 - 0.5 - centre.Y;
                    inside += (px * px) + (py * py) <= radius * radius ? 1 : 0;
                }

                int i = ((y * image.Width) + x) * 3;
                byte v = (byte)(20 + (inside * 235 / 16));
                pixels[i] = pixels[i + 1] = pixels[i + 2] = v;
            }
        }
    }

    private static PointF Centroid(float[] planes, PointF around, int window)
    {
        double sx = 0, sy = 0, sw = 0;
        double background = (20 - 127) / 128.0;
        for (int v = (int)around.Y - window; v <= (int)around.Y + window; v++)
        {
            for (int u = (int)around.X - window; u <= (int)around.X + window; u++)
            {
                double w = planes[(v * FaceAligner.Size) + u] - background;
                sx += w * u;
                sy += w * v;
                sw += w;
            }
        }

        return new PointF((float)(sx / sw), (float)(sy / sw));
    }
}
