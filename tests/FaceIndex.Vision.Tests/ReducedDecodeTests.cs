using FaceIndex.Core;

namespace FaceIndex.Vision.Tests;

/// <summary>
/// Large JPEGs are decoded at a reduced scale for detection, and faces are read from a resolution
/// sufficient for the 112×112 crop: the results match those of the full-size decode.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class ReducedDecodeTests(PipelineFixture fixture)
{
    [Theory]
    [InlineData("img40.jpg")] // 3061×4600: decoded at 1/4
    [InlineData("img4.jpg")] // 2500×1728: decoded at 1/2
    [InlineData("couple.jpg")] // two faces
    public async Task A_reduced_scale_decode_finds_the_same_faces_with_the_same_codes(string file)
    {
        var bytes = TestImages.Deepface(file);
        var options = PipelineFixture.Options();
        options.Sessions = 1;
        await using var full = FacePipeline.Create(options);
        full.DetectionDecodeSide = 0;

        var reduced = await fixture.Pipeline.AnalyzeAsync(bytes);
        var expected = await full.AnalyzeAsync(bytes);

        Assert.Equal(expected.Count, reduced.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            var (a, b) = (expected[i].Box, reduced[i].Box);
            float tolerance = 0.03f * Math.Max(a.Width, a.Height);
            Assert.InRange(Math.Abs(a.X - b.X), 0, tolerance);
            Assert.InRange(Math.Abs(a.Y - b.Y), 0, tolerance);
            Assert.InRange(Math.Abs(a.Width - b.Width), 0, tolerance);
            Assert.InRange(Math.Abs(a.Height - b.Height), 0, tolerance);

            // The same person by a wide margin: the default threshold is 1.528.
            Assert.InRange(Similarity.Distance(expected[i].Vector, reduced[i].Vector), -0.01f, 0.15f);
        }
    }
}
