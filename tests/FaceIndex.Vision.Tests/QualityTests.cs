using FaceIndex.Testing;
using FaceIndex.Vision.Internal;
using SkiaSharp;

namespace FaceIndex.Vision.Tests;

/// <summary>
/// Each face's quality (detector score, size, head pose from fr_pose.onnx, sharpness) and the reasons a
/// minimum refuses it, on real photographs and on versions of them made smaller, blurred or mirrored.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class QualityTests(PipelineFixture fixture)
{
    /// <summary>A minimum a little stricter than the server's default (Server:MinFaceQuality, 0.3).</summary>
    private const float Minimum = 0.4f;

    private readonly FacePipeline _pipeline = fixture.Pipeline;

    [Fact]
    public async Task A_frontal_portrait_has_full_quality_and_no_issue()
    {
        var face = await _pipeline.AnalyzeOneAsync(TestImages.Deepface("img1.jpg"));

        Assert.True(face.Quality.Score >= 0.9f, $"quality {face.Quality.Score}");
        Assert.True(Math.Abs(face.Quality.Pose.Yaw) < 15, $"yaw {face.Quality.Pose.Yaw}");
        Assert.Equal(QualityIssues.None, face.Quality.IssuesUnder(Minimum));
        Assert.Equal(face.Score, face.Quality.DetectionScore);
        Assert.Equal(Math.Min(face.Box.Width, face.Box.Height), face.Quality.FaceSize);
    }

    [Fact]
    public async Task Mirroring_a_turned_face_flips_the_sign_of_its_yaw_and_keeps_its_pitch()
    {
        // 7312_0001: a face turned far towards the image's left (the subject looks to their right).
        var bytes = File.ReadAllBytes(TestPaths.Faces("celeba-dev", "7312", "7312_0001.jpg"));
        using var original = TestImages.Decode(bytes);
        using var mirrored = Mirror(original);

        var a = (await _pipeline.AnalyzeOneAsync(bytes)).Quality.Pose;
        var b = (await _pipeline.AnalyzeOneAsync(TestImages.Encode(mirrored, SKEncodedImageFormat.Png, 100))).Quality.Pose;

        Assert.True(a.Yaw > 40, $"yaw {a.Yaw}: positive when the face turns towards the image's left");
        Assert.True(b.Yaw < -40, $"mirrored yaw {b.Yaw}");
        Assert.InRange(a.Yaw + b.Yaw, -10f, 10f);
        Assert.InRange(a.Pitch - b.Pitch, -8f, 8f);
    }

    [Fact]
    public async Task A_profile_is_refused_as_turned_away()
    {
        var face = await _pipeline.AnalyzeOneAsync(File.ReadAllBytes(TestPaths.Faces("celeba-dev", "7312", "7312_0001.jpg")));

        Assert.True(face.Quality.IssuesUnder(Minimum).HasFlag(QualityIssues.Profile), face.Quality.ToString());
        Assert.Contains("turned away", face.Quality.Explain(Minimum), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_face_shrunk_to_a_few_dozen_pixels_is_too_small()
    {
        using var original = TestImages.Decode(TestImages.Deepface("img1.jpg"));
        using var small = original.Resize(new SKImageInfo(original.Width / 24, original.Height / 24), new SKSamplingOptions(SKCubicResampler.Mitchell));
        var face = await _pipeline.AnalyzeOneAsync(TestImages.Encode(small, SKEncodedImageFormat.Png, 100));

        Assert.True(face.Quality.FaceSize < 30, $"size {face.Quality.FaceSize}");
        Assert.True(face.Quality.IssuesUnder(Minimum).HasFlag(QualityIssues.TooSmall));
        var why = face.Quality.Explain(Minimum);
        Assert.Contains("too small", why, StringComparison.Ordinal);
        Assert.Contains(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{face.Quality.FaceSize:F0} px"), why, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_blurred_face_is_refused_as_blurred_and_is_less_sharp_than_the_original()
    {
        var bytes = TestImages.Deepface("img1.jpg");
        using var original = TestImages.Decode(bytes);
        using var blurred = Blur(original, sigma: original.Width / 60f);
        var sharp = await _pipeline.AnalyzeOneAsync(bytes);
        var soft = await _pipeline.AnalyzeOneAsync(TestImages.Encode(blurred, SKEncodedImageFormat.Png, 100));

        Assert.True(soft.Quality.Sharpness < sharp.Quality.Sharpness / 5, $"sharpness {soft.Quality.Sharpness} vs {sharp.Quality.Sharpness}");
        Assert.True(soft.Quality.IssuesUnder(Minimum).HasFlag(QualityIssues.Blurred), soft.Quality.ToString());
        Assert.Contains("blurred", soft.Quality.Explain(Minimum), StringComparison.Ordinal);
    }

    [Fact]
    public void The_ramps_and_their_inverses_agree()
    {
        foreach (var q in new[] { 0.1f, 0.4f, 0.75f })
        {
            Assert.Equal(q, QualityRamps.Size(QualityRamps.SizeFor(q)), 4);
            Assert.Equal(q, QualityRamps.Sharpness(QualityRamps.SharpnessFor(q)), 4);
            Assert.Equal(q, QualityRamps.Detection(QualityRamps.DetectionFor(q)), 4);
            Assert.Equal(q, QualityRamps.Pose(new HeadPose(QualityRamps.YawFor(q), 0, 0)), 4);
        }

        Assert.Equal(0f, QualityRamps.Size(1));
        Assert.Equal(1f, QualityRamps.Size(1000));
    }

    [Fact]
    public void Pose_expectation_of_one_hot_logits_is_the_bin_angle()
    {
        var logits = new float[66];
        logits[33] = 50;
        Assert.Equal(0f, PoseEstimator.Expectation(logits), 2);
        logits[33] = 0;
        logits[0] = 50;
        Assert.Equal(-99f, PoseEstimator.Expectation(logits), 2);
    }

    private static SKBitmap Mirror(SKBitmap source)
    {
        var target = new SKBitmap(source.Width, source.Height);
        using var canvas = new SKCanvas(target);
        canvas.Scale(-1, 1, source.Width / 2f, 0);
        using var image = SKImage.FromBitmap(source);
        canvas.DrawImage(image, 0, 0, new SKSamplingOptions(SKFilterMode.Linear));
        return target;
    }

    private static SKBitmap Blur(SKBitmap source, float sigma)
    {
        var target = new SKBitmap(source.Width, source.Height);
        using var canvas = new SKCanvas(target);
        using var paint = new SKPaint { ImageFilter = SKImageFilter.CreateBlur(sigma, sigma) };
        using var image = SKImage.FromBitmap(source);
        canvas.DrawImage(image, 0, 0, new SKSamplingOptions(SKFilterMode.Linear), paint);
        return target;
    }
}
