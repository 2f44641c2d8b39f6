using FaceIndex.Core;
using FaceIndex.Vision.Internal;
using SkiaSharp;

namespace FaceIndex.Vision.Tests;

/// <summary>JPEG, PNG, WebP, BMP and GIF decode to the same faces; EXIF orientation is honoured.</summary>
[Collection(PipelineCollection.Name)]
public sealed class DecodingTests(PipelineFixture fixture)
{
    private const string Source = "img12.jpg";
    private readonly FacePipeline _pipeline = fixture.Pipeline;

    public static TheoryData<string> Formats => ["png", "webp", "bmp", "gif", "gif-animated"];

    public static TheoryData<int> Orientations => [2, 3, 4, 5, 6, 7, 8];

    [Theory]
    [MemberData(nameof(Formats))]
    public async Task Every_format_gives_the_same_face(string format)
    {
        using var bitmap = TestImages.Decode(TestImages.Deepface(Source));
        var reference = await SingleFaceAsync(TestImages.Encode(bitmap, SKEncodedImageFormat.Png, 100));
        using var black = TestImages.Solid(bitmap.Width, bitmap.Height, SKColors.Black);
        var encoded = format switch
        {
            "png" => TestImages.Encode(bitmap, SKEncodedImageFormat.Png, 100),
            "webp" => TestImages.Encode(bitmap, SKEncodedImageFormat.Webp, 100),
            "bmp" => TestImages.EncodeBmp(bitmap),
            "gif" => TestImages.EncodeGif(bitmap),
            _ => TestImages.EncodeGif(bitmap, black), // the face is in the first frame only
        };

        var face = await SingleFaceAsync(encoded);
        bool lossless = format is "png" or "webp" or "bmp";
        Assert.True(FaceDetector.IoU(reference.Box, face.Box) > (lossless ? 0.99f : 0.85f), $"{format}: box {face.Box} vs {reference.Box}");
        float distance = Similarity.Distance(reference.Vector, face.Vector);
        if (lossless)
        {
            Assert.Equal(reference.Vector, face.Vector);
        }
        else
        {
            // A 252-colour palette changes the pixels, not the person.
            Assert.True(distance < _pipeline.DefaultThreshold / 2, $"{format}: distance {distance}");
        }
    }

    [Theory]
    [MemberData(nameof(Orientations))]
    public async Task An_exif_oriented_jpeg_is_turned_upright(int orientation)
    {
        using var bitmap = TestImages.Decode(TestImages.Deepface(Source));
        var upright = await SingleFaceAsync(TestImages.JpegWithOrientation(bitmap, 1));
        var oriented = TestImages.JpegWithOrientation(bitmap, orientation);

        using (var image = _pipeline.Decoder.Decode(oriented))
        {
            Assert.Equal((bitmap.Width, bitmap.Height), (image.Width, image.Height));
        }

        var face = await SingleFaceAsync(oriented);
        Assert.True(FaceDetector.IoU(upright.Box, face.Box) > 0.9f, $"orientation {orientation}: box {face.Box} vs {upright.Box}");
        float distance = Similarity.Distance(upright.Vector, face.Vector);
        Assert.True(distance < 0.1f, $"orientation {orientation}: distance {distance}");
    }

    [Fact]
    public void An_exif_tag_on_a_jpeg_that_needs_no_turn_changes_nothing()
    {
        using var bitmap = TestImages.Decode(TestImages.Deepface(Source));
        var plain = TestImages.Encode(bitmap, SKEncodedImageFormat.Jpeg, 95);
        using var a = _pipeline.Decoder.Decode(plain);
        using var b = _pipeline.Decoder.Decode(TestImages.InsertExifOrientation(plain, 1));
        Assert.True(a.Pixels.SequenceEqual(b.Pixels));
    }

    private async Task<DetectedFace> SingleFaceAsync(byte[] encoded)
    {
        var faces = await _pipeline.AnalyzeAsync(encoded);
        return Assert.Single(faces);
    }
}
