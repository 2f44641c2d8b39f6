using System.Diagnostics;
using FaceIndex.Core;
using FaceIndex.Protocol.V1;
using FaceIndex.Testing;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Xunit.Abstractions;

namespace FaceIndex.IntegrationTests;

/// <summary>
/// Thousands of streams open at once against a server on a real loopback port (Kestrel, HTTP/2):
/// every one is answered or refused with a clean status, nothing is lost, and the server serves on.
/// </summary>
public sealed class ConcurrentStreamTests(ITestOutputHelper output)
{
    private const int Streams = 3000;

    [Fact]
    public async Task Three_thousand_concurrent_EnrollStreams_and_searches_are_all_answered_and_the_server_serves_on()
    {
        using var dir = TestPaths.NewTempDirectory();
        await using var host = await ServerHost.StartOnLoopbackAsync(dir.Path);

        // Several HTTP/2 connections, as many clients would open: Kestrel allows 100 streams on each.
        using var handler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true };
        using var channel = GrpcChannel.ForAddress(host.Address, new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = false });
        var client = new Protocol.V1.FaceIndex.FaceIndexClient(channel);

        var allOpen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int opened = 0;
        var watch = Stopwatch.StartNew();
        var streams = Enumerable.Range(0, Streams).Select(i => Task.Run(async () =>
        {
            using var call = client.EnrollStream(deadline: DateTime.UtcNow.AddMinutes(3));
            await call.RequestStream.WriteAsync(new EnrollRequest { PersonId = $"s{i}", ClientRef = $"r{i}", Vector = Vector(i) });
            if (Interlocked.Increment(ref opened) == Streams)
            {
                allOpen.SetResult();
            }

            // Every stream stays open until all of them have sent their first request.
            await allOpen.Task;
            await call.RequestStream.CompleteAsync();
            var results = new List<EnrollStreamResult>();
            await foreach (var result in call.ResponseStream.ReadAllAsync())
            {
                results.Add(result);
            }

            return (Assert.Single(results), i);
        })).ToList();
        var searches = Enumerable.Range(0, Streams / 3).Select(i => Task.Run(async () =>
        {
            await allOpen.Task;
            return await client.SearchAsync(new SearchRequest { Vector = Vector(i), TopK = 1 });
        })).ToList();

        int stored = 0;
        var refused = new Dictionary<StatusCode, int>();
        foreach (var task in streams)
        {
            try
            {
                var (result, i) = await task;
                Assert.Equal($"r{i}", result.ClientRef);
                Assert.Single(result.Response.Faces);
                stored++;
            }
            catch (RpcException e) when (e.StatusCode is StatusCode.ResourceExhausted or StatusCode.Unavailable)
            {
                refused[e.StatusCode] = refused.GetValueOrDefault(e.StatusCode) + 1;
            }
        }

        foreach (var search in searches)
        {
            Assert.Single((await search).Faces);
        }

        output.WriteLine($"{Streams} EnrollStreams + {searches.Count} searches in {watch.Elapsed.TotalSeconds:F1} s: {stored} stored, refused {string.Join(", ", refused.Select(r => $"{r.Key} {r.Value}"))}");
        Assert.True(stored > 0);

        // Nothing acknowledged is lost, and the server still answers.
        var stats = await host.Client.StatsAsync(new StatsRequest());
        Assert.Equal(stored, stats.Faces);
        var again = await host.Client.SearchAsync(new SearchRequest { Vector = Vector(7), TopK = 1 });
        Assert.Equal("s7", Assert.Single(again.Faces).Matches[0].PersonId);
    }

    private static Protocol.V1.FaceVector Vector(int i)
    {
        var x = new float[Core.FaceVector.Dimensions];
        SyntheticFaces.BaseRow(i, x);
        return new Protocol.V1.FaceVector { Data = ByteString.CopyFrom(Quantizer.Quantize(x).ToArray()), ModelVersion = TestPaths.ModelVersion };
    }
}
