using FaceIndex.Testing;

namespace FaceIndex.IntegrationTests;

/// <summary>
/// One server for a test class, with the deepface identities enrolled in the default collection:
/// every person's images but the last, which is held out for searching.
/// </summary>
public sealed class GalleryFixture : IAsyncLifetime
{
    private readonly TempDirectory _dir = TestPaths.NewTempDirectory();

    internal ServerHost Host { get; private set; } = null!;

    internal Protocol.V1.FaceIndex.FaceIndexClient Client => Host.Client;

    /// <summary>Person → face ids enrolled for them.</summary>
    internal Dictionary<string, List<ulong>> Enrolled { get; } = [];

    /// <summary>Person → the held-out image.</summary>
    internal Dictionary<string, string> HeldOut { get; } = [];

    public async Task InitializeAsync()
    {
        Host = await ServerHost.StartAsync(_dir.Path);
        foreach (var (person, files) in Deepface.People)
        {
            Enrolled[person] = [];
            foreach (var file in files[..^1])
            {
                var reply = await Client.EnrollAsync(Deepface.Enroll(person, file));
                Enrolled[person].Add(Assert.Single(reply.Faces).FaceId);
            }

            HeldOut[person] = files[^1];
        }
    }

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        _dir.Dispose();
    }
}
