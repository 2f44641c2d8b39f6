using FaceIndex.Protocol.V1;
using FaceIndex.Testing;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Reflection.V1Alpha;

namespace FaceIndex.IntegrationTests;

/// <summary>API keys, health, reflection, and the server on a real loopback port.</summary>
public sealed class AccessTests
{
    private const string WriterKey = "writer-key-0123456789";
    private const string ReaderKey = "reader-key-0123456789";
    private const string LobbyKey = "lobby-only-0123456789";

    private static readonly string[] s_auth =
    [
        "--Auth:Enabled=true",
        "--Auth:Keys:0:Name=writer", "--Auth:Keys:0:Key=" + WriterKey, "--Auth:Keys:0:Collections:0=*",
        "--Auth:Keys:1:Name=reader", "--Auth:Keys:1:Key=" + ReaderKey, "--Auth:Keys:1:Collections:0=*", "--Auth:Keys:1:ReadOnly=true",
        "--Auth:Keys:2:Name=lobby", "--Auth:Keys:2:Key=" + LobbyKey, "--Auth:Keys:2:Collections:0=lobby",
    ];

    [Fact]
    public async Task With_auth_on_a_missing_or_wrong_key_is_refused_and_scopes_are_enforced()
    {
        using var dir = TestPaths.NewTempDirectory();
        await using var host = await ServerHost.StartAsync(dir.Path, s_auth);
        var client = host.Client;
        var enroll = Deepface.Enroll("p-8-9", "img8.jpg");

        // Refused by the authentication scheme before the service: the same rich error as a refusal from inside it.
        var none = await Assert.ThrowsAsync<RpcException>(() => client.EnrollAsync(enroll).ResponseAsync);
        AssertRefused(none, StatusCode.Unauthenticated, "UNAUTHENTICATED", "requires an API key");
        var wrong = await Assert.ThrowsAsync<RpcException>(() => client.EnrollAsync(enroll, Key("not-a-valid-key-at-all")).ResponseAsync);
        AssertRefused(wrong, StatusCode.Unauthenticated, "UNAUTHENTICATED", "The API key is not valid.");
        var stream = client.EnrollStream(Key("not-a-valid-key-at-all"));
        var streamRefused = await Assert.ThrowsAsync<RpcException>(() => stream.ResponseStream.MoveNext(CancellationToken.None));
        AssertRefused(streamRefused, StatusCode.Unauthenticated, "UNAUTHENTICATED", "The API key is not valid.");

        Assert.Single((await client.EnrollAsync(enroll, Key(WriterKey))).Faces);
        var bearer = new Metadata { { "authorization", "Bearer " + ReaderKey } };
        Assert.Equal("p-8-9", (await client.SearchAsync(new SearchRequest { Image = Deepface.Bytes("img9.jpg") }, bearer)).Faces[0].Matches[0].PersonId);

        var readOnly = await Assert.ThrowsAsync<RpcException>(() => client.EnrollAsync(Deepface.Enroll("p-16-17", "img16.jpg"), Key(ReaderKey)).ResponseAsync);
        AssertRefused(readOnly, StatusCode.PermissionDenied, "PERMISSION_DENIED", "read-only");
        var outOfScope = await Assert.ThrowsAsync<RpcException>(() => client.SearchAsync(new SearchRequest { Image = Deepface.Bytes("img9.jpg") }, Key(LobbyKey)).ResponseAsync);
        AssertRefused(outOfScope, StatusCode.PermissionDenied, "PERMISSION_DENIED", "may not use collection 'default'");
        var deleteOutOfScope = await Assert.ThrowsAsync<RpcException>(() => client.DeletePersonAsync(new DeletePersonRequest { PersonId = "p-8-9" }, Key(LobbyKey)).ResponseAsync);
        AssertRefused(deleteOutOfScope, StatusCode.PermissionDenied, "PERMISSION_DENIED", "may not use collection 'default'");

        await client.CreateCollectionAsync(new CreateCollectionRequest { Name = "lobby" }, Key(LobbyKey));
        var listed = await client.ListCollectionsAsync(new ListCollectionsRequest(), Key(LobbyKey));
        Assert.Equal(["lobby"], listed.Collections.Select(c => c.Name));

        // Stats without a collection counts only what the key may see.
        Assert.Equal(1, (await client.StatsAsync(new StatsRequest(), Key(LobbyKey))).Collections);
        Assert.Equal(2, (await client.StatsAsync(new StatsRequest(), Key(ReaderKey))).Collections);

        // Health and reflection stay open (load balancers, grpcurl's discovery).
        var health = new Health.HealthClient(host.Channel);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest())).Status);
        using var reflection = new ServerReflection.ServerReflectionClient(host.Channel).ServerReflectionInfo();
        await reflection.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        Assert.True(await reflection.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Contains(reflection.ResponseStream.Current.ListServicesResponse.Service, s => s.Name == "faceindex.v1.FaceIndex");
        await reflection.RequestStream.CompleteAsync();

        // The call ends when the server has seen the end of the requests (disposing it earlier races its read).
        Assert.False(await reflection.ResponseStream.MoveNext(CancellationToken.None));
    }

    private static void AssertRefused(RpcException error, StatusCode code, string reason, string message)
    {
        Assert.Equal(code, error.StatusCode);
        Assert.Contains(message, error.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(reason, error.Trailers.GetValue("faceindex-reason"));
        var info = error.GetRpcStatus()?.GetDetail<Google.Rpc.ErrorInfo>();
        Assert.Equal(reason, info?.Reason);
        Assert.Equal("faceindex.dev", info?.Domain);
    }

    [Fact]
    public async Task On_a_loopback_port_health_says_serving_and_reflection_lists_the_service()
    {
        using var dir = TestPaths.NewTempDirectory();
        int metricsPort = FreePort();
        await using var host = await ServerHost.StartOnLoopbackAsync(dir.Path, "--Server:MetricsPort=" + metricsPort);
        Assert.StartsWith("http://127.0.0.1:", host.Address);
        var health = new Health.HealthClient(host.Channel);
        var status = await health.CheckAsync(new HealthCheckRequest { Service = "faceindex.v1.FaceIndex" });
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, status.Status);

        var reflection = new ServerReflection.ServerReflectionClient(host.Channel);
        using var call = reflection.ServerReflectionInfo();
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var services = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();
        Assert.Contains("faceindex.v1.FaceIndex", services);
        Assert.Contains("grpc.health.v1.Health", services);

        var reply = await host.Client.EnrollAsync(Deepface.Enroll("p-8-9", "img8.jpg"));
        Assert.Single(reply.Faces);
        var search = await host.Client.SearchAsync(new SearchRequest { Image = Deepface.Bytes("img9.jpg"), Threshold = 4f });
        Assert.Equal("p-8-9", search.Faces[0].Matches[0].PersonId);

        // Prometheus metrics on their own port: calls by method and status, and the database's gauges.
        using var http = new HttpClient();
        var metrics = await http.GetStringAsync($"http://127.0.0.1:{metricsPort}/metrics");
        Assert.Contains("faceindex_grpc_calls_total{method=\"Enroll\",code=\"OK\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("faceindex_faces 1", metrics, StringComparison.Ordinal);
        Assert.Contains("faceindex_faces_enrolled_total 1", metrics, StringComparison.Ordinal);
        Assert.Contains("faceindex_search_faces_total{outcome=\"match\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("dotnet_collection_count_total", metrics, StringComparison.Ordinal);
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static Metadata Key(string key) => new() { { "x-api-key", key } };
}
