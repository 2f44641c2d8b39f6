using FaceIndex.Core;
using FaceIndex.IntegrationTests;
using FaceIndex.Vision;
using SkiaSharp;

namespace FaceIndex.Fuzz;

/// <summary>
/// Image bytes → the vision pipeline (decode, detect, 68 landmarks, align, embed, project). Every
/// input must end in faces, no faces, or one of the image errors the server maps to InvalidArgument;
/// any other exception is a crash.
/// </summary>
internal sealed class ImageTarget : IFuzzTarget
{
    private readonly FacePipeline _pipeline = FacePipeline.Create(new VisionOptions
    {
        ModelsDirectory = Path.Combine(Fuzz.Seeds.RepoRoot(), "models"),
        Sessions = 1,
        IntraOpThreads = 1,

        // The same code as the server's 40 M default, at a budget that keeps one execution short.
        MaxPixels = 4_000_000,
    });

    public void Execute(byte[] input)
    {
        try
        {
            var faces = _pipeline.AnalyzeAsync(input).GetAwaiter().GetResult();
            foreach (var face in faces)
            {
                if (!Quantizer.IsValid(face.Vector.AsSpan()) || !float.IsFinite(face.Score))
                {
                    throw new FuzzCrashException("the pipeline produced an invalid code or score");
                }
            }
        }
        catch (FaceIndexException e) when (e.Error is FaceIndexError.ImageUnreadable or FaceIndexError.ImageTruncated
            or FaceIndexError.ImageTooLarge or FaceIndexError.ImageTooSmall)
        {
            // A refusal the client is told about: not a crash.
        }
    }

    public IEnumerable<(string Name, byte[] Bytes)> Seeds()
    {
        foreach (var file in new[] { "img1.jpg", "img3.jpg", "img17.jpg", "couple.jpg" })
        {
            var (rgba, w, h) = HostileImages.Pixels(File.ReadAllBytes(Fuzz.Seeds.Faces("deepface", file)), maxSide: 128);
            var name = Path.GetFileNameWithoutExtension(file);
            yield return ($"{name}.jpg", Encode(rgba, w, h, SKEncodedImageFormat.Jpeg));
            yield return ($"{name}.webp", Encode(rgba, w, h, SKEncodedImageFormat.Webp));
            if (file == "img1.jpg")
            {
                yield return ($"{name}.png", HostileImages.Png8(rgba, w, h));
                yield return ($"{name}-16bit.png", HostileImages.Png16(rgba, w, h));
                yield return ($"{name}-cmyk.jpg", HostileImages.CmykJpeg(rgba, w, h));
                yield return ($"{name}-animated.gif", HostileImages.AnimatedGif(w, h, rgba, null));
            }
        }

        yield return ("bomb.png", HostileImages.PngBomb(30000, 30000));
        yield return ("blank-1bit.png", HostileImages.PngBlank1Bit(64, 64));
    }

    public void Dispose() => _pipeline.Dispose();

    private static byte[] Encode(byte[] rgba, int width, int height, SKEncodedImageFormat format)
    {
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var image = SKImage.FromPixelCopy(info, rgba);
        using var data = image.Encode(format, 80);
        return data.ToArray();
    }
}
