using FaceIndex.Core;
using FaceIndex.Protocol.V1;
using FaceIndex.Testing;
using Google.Protobuf;
using Grpc.Core;

namespace FaceIndex.IntegrationTests;

/// <summary>
/// Search's threshold calibrated from a false-positive identification rate for the collection's size (reported
/// in the reply and per collection in Stats), a request's own FPIR target, and the optional attributes.
/// </summary>
public sealed class OpenSetSearchTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = TestPaths.NewTempDirectory();
    private ServerHost _host = null!;

    public async Task InitializeAsync() =>
        _host = await ServerHost.StartAsync(_dir.Path, "--Server:Collections:strict:SearchFpir=0.001", "--Server:Collections:strict:MinFaceQuality=0.5");

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task The_default_threshold_follows_the_collection_size_and_fpir_target_and_Stats_reports_it()
    {
        var client = _host.Client;
        await client.CreateCollectionAsync(new CreateCollectionRequest { Name = "small" });
        await client.CreateCollectionAsync(new CreateCollectionRequest { Name = "large" });
        await client.CreateCollectionAsync(new CreateCollectionRequest { Name = "strict" });
        await client.EnrollAsync(new EnrollRequest { Collection = "small", PersonId = "s0", Vector = Vector(0) });
        await client.EnrollAsync(new EnrollRequest { Collection = "strict", PersonId = "s0", Vector = Vector(0) });
        for (int i = 0; i < 100; i++)
        {
            await client.EnrollAsync(new EnrollRequest { Collection = "large", PersonId = $"s{i}", Vector = Vector(i) });
        }

        var small = await client.SearchAsync(new SearchRequest { Collection = "small", Vector = Vector(0) });
        var large = await client.SearchAsync(new SearchRequest { Collection = "large", Vector = Vector(0) });
        var strict = await client.SearchAsync(new SearchRequest { Collection = "strict", Vector = Vector(0) });
        Assert.Equal(0.01, small.Fpir, 9);
        Assert.Equal(0.01, large.Fpir, 9);
        Assert.Equal(0.001, strict.Fpir, 9);
        Assert.True(large.Threshold < small.Threshold, $"100 faces: {large.Threshold}, 1 face: {small.Threshold}");
        Assert.True(strict.Threshold < small.Threshold, $"FPIR 0.1 %: {strict.Threshold}, 1 %: {small.Threshold}");
        Assert.Equal(0.5f, strict.MinQuality);
        Assert.Equal("s0", small.Faces[0].Persons[0].PersonId);

        // A request's own target: looser at 10 %, and reported as applied; a raw threshold reports no target.
        var loose = await client.SearchAsync(new SearchRequest { Collection = "large", Vector = Vector(0), Fpir = 0.1 });
        Assert.Equal(0.1, loose.Fpir, 9);
        Assert.True(loose.Threshold > large.Threshold);
        var raw = await client.SearchAsync(new SearchRequest { Collection = "large", Vector = Vector(0), Threshold = 1.1f });
        Assert.Equal(0, raw.Fpir);
        Assert.Equal(1.1f, raw.Threshold);

        var stats = await client.StatsAsync(new StatsRequest());
        var rows = stats.CollectionSearch.ToDictionary(c => c.Collection);
        Assert.Equal(100, rows["large"].Faces);
        Assert.Equal(large.Threshold, rows["large"].SearchThreshold);
        Assert.Equal(small.Threshold, rows["small"].SearchThreshold);
        Assert.Equal(0.001, rows["strict"].SearchFpir, 9);
        Assert.Equal(0.5f, rows["strict"].MinQuality);
        Assert.Equal(0.3f, rows["small"].MinQuality);
    }

    [Theory]
    [InlineData(0.0, "fpir is a false-positive identification rate in (0, 1)")]
    [InlineData(1.0, "fpir is a false-positive identification rate in (0, 1)")]
    [InlineData(double.NaN, "fpir is a false-positive identification rate in (0, 1)")]
    public async Task An_fpir_outside_0_1_is_invalid_argument(double fpir, string message)
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => _host.Client.SearchAsync(new SearchRequest { Vector = Vector(1), Fpir = fpir }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains(message, error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_threshold_and_an_fpir_together_are_invalid_argument()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => _host.Client.SearchAsync(new SearchRequest { Vector = Vector(1), Fpir = 0.01, Threshold = 1f }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("not both", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Attributes_come_only_when_asked_for()
    {
        var client = _host.Client;
        var plain = await client.EnrollAsync(new EnrollRequest { PersonId = "a", Image = Deepface.Bytes("img1.jpg") });
        Assert.Null(Assert.Single(plain.Faces).Attributes);

        var asked = await client.SearchAsync(new SearchRequest { Image = Deepface.Bytes("img1.jpg"), Attributes = true });
        var attributes = asked.Faces[0].Attributes;
        Assert.NotNull(attributes);
        Assert.InRange(attributes.Age, 1f, 100f);
        Assert.Equal(attributes.GenderScore >= 0.5f ? "male" : "female", attributes.Gender);
        Assert.Contains(attributes.Expression, new[] { "angry", "disgust", "fear", "happy", "sad", "surprise", "neutral" });
        Assert.InRange(attributes.ExpressionConfidence, 1f / 7, 1f);
        Assert.Equal("a", asked.Faces[0].Persons[0].PersonId);

        var enrolled = await client.EnrollAsync(new EnrollRequest { PersonId = "a", Image = Deepface.Bytes("img2.jpg"), Attributes = true });
        Assert.NotNull(Assert.Single(enrolled.Faces).Attributes);
    }

    private static Protocol.V1.FaceVector Vector(int i)
    {
        var x = new float[Core.FaceVector.Dimensions];
        SyntheticFaces.BaseRow(i, x);
        return new Protocol.V1.FaceVector { Data = ByteString.CopyFrom(Quantizer.Quantize(x).ToArray()), ModelVersion = TestPaths.ModelVersion };
    }
}
