using FaceIndex.Protocol.V1;
using FaceIndex.Testing;
using Grpc.Core;
using SkiaSharp;

namespace FaceIndex.IntegrationTests;

/// <summary>
/// The quality gate through the real server: a poor face is not enrolled (FACE_LOW_QUALITY, with why) and a
/// poor probe face is reported but not matched, which keeps a photo's second, poor face from making its
/// person a hub that strangers' poor faces match (the scenario of issue 13).
/// </summary>
public sealed class QualityGateTests : IAsyncLifetime
{
    /// <summary>People of deepface other than the two in the enrolment photo (p-3-12 and p-8-9).</summary>
    private static readonly string[] s_strangers = ["img2.jpg", "img5.jpg", "img13.jpg", "img16.jpg", "img18.jpg", "img22.jpg"];

    private readonly TempDirectory _dir = TestPaths.NewTempDirectory();
    private ServerHost _host = null!;

    public async Task InitializeAsync() => _host = await ServerHost.StartAsync(_dir.Path);

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task A_photo_with_a_second_poor_face_makes_its_person_a_hub_without_the_gate_and_not_with_it()
    {
        var client = _host.Client;
        var photo = ByteString(TwoFaces());

        // Without the gate the scenario reproduces: both faces are enrolled, and strangers' blurred faces match the poor one.
        await client.CreateCollectionAsync(new CreateCollectionRequest { Name = "nogate" });
        var open = await client.EnrollAsync(new EnrollRequest { Collection = "nogate", PersonId = "host", Image = photo, FacePolicy = FacePolicy.All, MinQuality = 0 });
        Assert.Equal(2, open.Faces.Count);
        int hubMatches = 0;
        foreach (var file in s_strangers)
        {
            var reply = await client.SearchAsync(new SearchRequest { Collection = "nogate", Image = ByteString(Blurred(file)), MinQuality = 0 });
            hubMatches += reply.Faces.Count(f => f.Matches.Any(m => m.PersonId == "host"));
        }

        Assert.True(hubMatches >= 2, $"only {hubMatches} of {s_strangers.Length} strangers' blurred faces matched the poor enrolled face: the scenario did not reproduce");

        // With the collection's default minimum the poor face is left out of the enrolment, and said so.
        await client.CreateCollectionAsync(new CreateCollectionRequest { Name = "gated" });
        var gated = await client.EnrollAsync(new EnrollRequest { Collection = "gated", PersonId = "host", Image = photo, FacePolicy = FacePolicy.All });
        var kept = Assert.Single(gated.Faces);
        Assert.Equal(1, gated.FacesLowQuality);
        Assert.True(kept.Quality.Score >= 0.3f, $"kept quality {kept.Quality.Score}");
        Assert.Empty(kept.Quality.Issues);

        int reported = 0;
        foreach (var file in s_strangers)
        {
            // Searched as they come: each poor face found is reported with its quality and reasons, never matched
            // (a photo blurred this much may show no detectable face at all).
            var reply = await client.SearchAsync(new SearchRequest { Collection = "gated", Image = ByteString(Blurred(file)) });
            Assert.Equal(0.3f, reply.MinQuality);
            foreach (var face in reply.Faces)
            {
                Assert.True(face.LowQuality, $"{file}: quality {face.Quality.Score}");
                Assert.True(face.Unknown);
                Assert.Empty(face.Matches);
                Assert.Empty(face.Persons);
                Assert.Contains("BLURRED", face.Quality.Issues);
                Assert.Contains("blurred", face.QualityMessage, StringComparison.Ordinal);
                reported++;
            }

            // Even matched on purpose (min_quality 0), nothing of the host's good face is near them.
            var forced = await client.SearchAsync(new SearchRequest { Collection = "gated", Image = ByteString(Blurred(file)), MinQuality = 0 });
            Assert.DoesNotContain(forced.Faces.SelectMany(f => f.Matches), m => m.PersonId == "host");
        }

        Assert.True(reported >= hubMatches, $"{reported} poor faces reported, {hubMatches} matched the hub without the gate");

        // The enrolled good face is still found by the host's other photo.
        var host = await client.SearchAsync(new SearchRequest { Collection = "gated", Image = Deepface.Bytes("img12.jpg") });
        Assert.Equal("host", host.Faces[0].Persons[0].PersonId);
    }

    [Fact]
    public async Task Enrolling_a_blurred_face_is_refused_with_FACE_LOW_QUALITY_and_says_why()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => _host.Client.EnrollAsync(new EnrollRequest { PersonId = "soft", Image = ByteString(Blurred("img3.jpg")) }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal("FACE_LOW_QUALITY", error.Trailers.GetValue("faceindex-reason"));
        Assert.Contains("blurred", error.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("under the minimum 0.30", error.Status.Detail, StringComparison.Ordinal);

        // A request may lower its own minimum; the quality still says how poor the face is.
        var reply = await _host.Client.EnrollAsync(new EnrollRequest { PersonId = "soft", Image = ByteString(Blurred("img3.jpg")), MinQuality = 0 });
        var face = Assert.Single(reply.Faces);
        Assert.True(face.Quality.Score < 0.3f && face.Quality.Sharpness < 30, $"quality {face.Quality}");
    }

    [Fact]
    public async Task Enrolling_a_tiny_face_is_refused_as_too_small()
    {
        using var original = SKBitmap.Decode(Deepface.Image("img3.jpg"));
        using var small = original.Resize(new SKImageInfo(original.Width / 20, original.Height / 20), new SKSamplingOptions(SKCubicResampler.Mitchell));
        var error = await Assert.ThrowsAsync<RpcException>(() => _host.Client.EnrollAsync(new EnrollRequest { PersonId = "tiny", Image = ByteString(Png(small)) }).ResponseAsync);

        Assert.Equal("FACE_LOW_QUALITY", error.Trailers.GetValue("faceindex-reason"));
        Assert.Contains("too small", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_poor_face_picked_by_position_is_FACE_LOW_QUALITY_naming_its_position()
    {
        var client = _host.Client;
        var photo = ByteString(TwoFaces());
        var faces = (await client.SearchAsync(new SearchRequest { Image = photo, MinQuality = 0 })).Faces;
        Assert.Equal(2, faces.Count);
        int poor = faces[0].Quality.Score < 0.3f ? 0 : 1, good = 1 - poor;
        Assert.True(faces[good].Quality.Score >= 0.3f && faces[poor].Quality.Score < 0.3f, $"qualities {faces[0].Quality.Score}, {faces[1].Quality.Score}");

        await client.CreateCollectionAsync(new CreateCollectionRequest { Name = "bypos" });
        var error = await Assert.ThrowsAsync<RpcException>(() => client.EnrollAsync(new EnrollRequest { Collection = "bypos", PersonId = "p", Image = photo, FaceIndices = { good, poor } }).ResponseAsync);
        Assert.Equal("FACE_LOW_QUALITY", error.Trailers.GetValue("faceindex-reason"));
        Assert.Contains($"Face {poor} ", error.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("blurred", error.Status.Detail, StringComparison.Ordinal);

        var reply = await client.EnrollAsync(new EnrollRequest { Collection = "bypos", PersonId = "p", Image = photo, FaceIndices = { good } });
        var face = Assert.Single(reply.Faces);
        Assert.Equal(faces[good].Box.X, face.Box.X);
        Assert.Equal(1, reply.FacesIgnored);
    }

    [Fact]
    public async Task A_bad_min_quality_is_invalid_argument()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => _host.Client.SearchAsync(new SearchRequest { Image = Deepface.Bytes("img1.jpg"), MinQuality = 1.5f }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("min_quality", error.Status.Detail, StringComparison.Ordinal);
    }

    /// <summary>One photo holding a good face (img3) and, beside it, a second, blurred face of another person (img8).</summary>
    private static byte[] TwoFaces()
    {
        using var good = SKBitmap.Decode(Deepface.Image("img3.jpg"));
        using var poor = SKBitmap.Decode(Blurred("img8.jpg"));
        int height = 600;
        int goodWidth = good.Width * height / good.Height, poorWidth = poor.Width * height / poor.Height;
        using var canvas = new SKBitmap(goodWidth + poorWidth, height);
        using (var draw = new SKCanvas(canvas))
        {
            using var a = SKImage.FromBitmap(good);
            using var b = SKImage.FromBitmap(poor);
            var sampling = new SKSamplingOptions(SKCubicResampler.Mitchell);
            draw.DrawImage(a, new SKRect(0, 0, goodWidth, height), sampling);
            draw.DrawImage(b, new SKRect(goodWidth, 0, goodWidth + poorWidth, height), sampling);
        }

        return Png(canvas);
    }

    /// <summary>A deepface photo blurred as by a moving, out-of-focus camera (Gaussian, σ = width / 50).</summary>
    private static byte[] Blurred(string file)
    {
        using var source = SKBitmap.Decode(Deepface.Image(file));
        using var target = new SKBitmap(source.Width, source.Height);
        using (var canvas = new SKCanvas(target))
        {
            using var paint = new SKPaint { ImageFilter = SKImageFilter.CreateBlur(source.Width / 50f, source.Width / 50f) };
            using var image = SKImage.FromBitmap(source);
            canvas.DrawImage(image, 0, 0, new SKSamplingOptions(SKFilterMode.Linear), paint);
        }

        return Png(target);
    }

    private static byte[] Png(SKBitmap bitmap)
    {
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    private static Google.Protobuf.ByteString ByteString(byte[] bytes) => Google.Protobuf.ByteString.CopyFrom(bytes);
}
