using FaceIndex.Core;
using SkiaSharp;

namespace FaceIndex.Vision.Tests;

/// <summary>Each kind of bad input gives its own typed error; "no face" is an empty result, or NoFace where a face is required.</summary>
[Collection(PipelineCollection.Name)]
public sealed class BadInputTests(PipelineFixture fixture)
{
    private readonly FacePipeline _pipeline = fixture.Pipeline;

    [Fact]
    public async Task Empty_bytes_are_unreadable()
    {
        var error = await Assert.ThrowsAsync<FaceIndexException>(() => _pipeline.AnalyzeAsync(Array.Empty<byte>()));
        Assert.Equal(FaceIndexError.ImageUnreadable, error.Error);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(64)]
    [InlineData(100_000)]
    public async Task Random_bytes_are_unreadable(int length)
    {
        var bytes = new byte[length];
        new Random(length).NextBytes(bytes);
        var error = await Assert.ThrowsAsync<FaceIndexException>(() => _pipeline.AnalyzeAsync(bytes));
        Assert.Equal(FaceIndexError.ImageUnreadable, error.Error);
    }

    [Fact]
    public async Task Text_is_unreadable()
    {
        var error = await Assert.ThrowsAsync<FaceIndexException>(() => _pipeline.AnalyzeAsync("file_x,file_y,Decision\n"u8.ToArray()));
        Assert.Equal(FaceIndexError.ImageUnreadable, error.Error);
    }

    [Theory]
    [InlineData("jpeg", 0.5)]
    [InlineData("jpeg", 0.9)]
    [InlineData("png", 0.5)]
    public async Task A_truncated_image_is_truncated(string format, double keep)
    {
        using var bitmap = TestImages.Decode(TestImages.Deepface("img12.jpg"));
        var whole = TestImages.Encode(bitmap, format == "png" ? SKEncodedImageFormat.Png : SKEncodedImageFormat.Jpeg, 90);
        var cut = whole.AsSpan(0, (int)(whole.Length * keep)).ToArray();
        var error = await Assert.ThrowsAsync<FaceIndexException>(() => _pipeline.AnalyzeAsync(cut));
        Assert.Equal(FaceIndexError.ImageTruncated, error.Error);
    }

    [Fact]
    public async Task A_jpeg_cut_inside_its_header_is_truncated()
    {
        var whole = TestImages.Deepface("img12.jpg");
        var error = await Assert.ThrowsAsync<FaceIndexException>(() => _pipeline.AnalyzeAsync(whole.AsSpan(0, 40).ToArray()));
        Assert.Equal(FaceIndexError.ImageTruncated, error.Error);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(19, 400)]
    public async Task A_tiny_image_is_too_small(int width, int height)
    {
        using var bitmap = TestImages.Solid(width, height, SKColors.Gray);
        var error = await Assert.ThrowsAsync<FaceIndexException>(() => _pipeline.AnalyzeAsync(TestImages.Encode(bitmap, SKEncodedImageFormat.Png, 100)));
        Assert.Equal(FaceIndexError.ImageTooSmall, error.Error);
    }

    [Fact]
    public async Task An_image_without_a_face_gives_no_faces_or_NoFace_where_one_is_required()
    {
        using var bitmap = TestImages.NoFace(320, 240);
        var png = TestImages.Encode(bitmap, SKEncodedImageFormat.Png, 100);

        Assert.Empty(await _pipeline.AnalyzeAsync(png));
        var error = await Assert.ThrowsAsync<FaceIndexException>(() => _pipeline.AnalyzeOneAsync(png));
        Assert.Equal(FaceIndexError.NoFace, error.Error);
    }

    [Fact]
    public async Task Two_faces_where_exactly_one_is_required_is_MultipleFaces()
    {
        var couple = TestImages.Deepface("couple.jpg");
        var error = await Assert.ThrowsAsync<FaceIndexException>(() => _pipeline.AnalyzeOneAsync(couple, FaceSelection.ExactlyOne));
        Assert.Equal(FaceIndexError.MultipleFaces, error.Error);

        var largest = await _pipeline.AnalyzeOneAsync(couple, FaceSelection.Largest);
        Assert.Equal((await _pipeline.AnalyzeAsync(couple))[0].Vector, largest.Vector);
    }

    [Fact]
    public async Task An_image_over_the_pixel_budget_is_too_large_before_decoding()
    {
        var options = PipelineFixture.Options();
        options.Sessions = 1;
        options.MaxPixels = 560 * 415 - 1;
        await using var small = FacePipeline.Create(options);

        var error = await Assert.ThrowsAsync<FaceIndexException>(() => small.AnalyzeAsync(TestImages.Deepface("img12.jpg")));
        Assert.Equal(FaceIndexError.ImageTooLarge, error.Error);
        Assert.Contains("MaxPixels", error.Message, StringComparison.Ordinal);

        // The budget is read from the header: a truncated file over the budget is refused as too large, not as truncated.
        using var big = TestImages.Solid(800, 800, SKColors.Gray);
        var jpeg = TestImages.Encode(big, SKEncodedImageFormat.Jpeg, 90);
        error = await Assert.ThrowsAsync<FaceIndexException>(() => small.AnalyzeAsync(jpeg.AsSpan(0, jpeg.Length / 2).ToArray()));
        Assert.Equal(FaceIndexError.ImageTooLarge, error.Error);
    }

    [Fact]
    public async Task A_cancelled_call_is_cancelled()
    {
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _pipeline.AnalyzeAsync(TestImages.Deepface("img12.jpg"), cts.Token));
    }
}
