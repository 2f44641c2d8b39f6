using System.Security.Claims;
using FaceIndex.Protocol.V1;
using FaceIndex.Server.Internal;
using FaceIndex.Server.Services;
using FaceIndex.Testing;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace FaceIndex.IntegrationTests;

/// <summary>
/// The service called directly, without a transport, through the interceptor that maps outcomes to
/// statuses, with a test <see cref="ServerCallContext"/> whose cancellation, deadline and caller the
/// test controls: cancellation before and during a write, deadlines, and each status a client can cause.
/// </summary>
public sealed class ServiceCallTests(Xunit.Abstractions.ITestOutputHelper output) : IAsyncLifetime
{
    private const string WriterKey = "service-writer-0123456789";
    private const string ReaderKey = "service-reader-0123456789";

    private readonly TempDirectory _dir = TestPaths.NewTempDirectory();
    private ServerHost _host = null!;
    private FaceIndexService _service = null!;
    private CallInterceptor _interceptor = null!;
    private ClaimsPrincipal _writer = null!;
    private ClaimsPrincipal _reader = null!;

    public async Task InitializeAsync()
    {
        _host = await ServerHost.StartAsync(
            _dir.Path,
            "--Auth:Enabled=true",
            "--Auth:Keys:0:Name=writer", "--Auth:Keys:0:Key=" + WriterKey, "--Auth:Keys:0:Collections:0=*",
            "--Auth:Keys:1:Name=reader", "--Auth:Keys:1:Key=" + ReaderKey, "--Auth:Keys:1:Collections:0=*", "--Auth:Keys:1:ReadOnly=true");
        _service = ActivatorUtilities.CreateInstance<FaceIndexService>(_host.Services);
        _interceptor = _host.Services.GetRequiredService<CallInterceptor>();
        var keys = _host.Services.GetRequiredService<ApiKeyTable>();
        _writer = keys.Find(WriterKey)!;
        _reader = keys.Find(ReaderKey)!;
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task A_call_cancelled_before_it_starts_is_Cancelled_and_stores_nothing()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        var error = await Assert.ThrowsAsync<RpcException>(() => Call(_service.Enroll, Enroll("early", 1), Context(_writer, ct: cancelled.Token)));
        AssertStatus(error, StatusCode.Cancelled, "CANCELLED");

        var missing = await Assert.ThrowsAsync<RpcException>(() => Call(_service.GetPerson, new GetPersonRequest { PersonId = "early" }, Context(_writer)));
        AssertStatus(missing, StatusCode.NotFound, "NOT_FOUND");
    }

    [Fact]
    public async Task A_call_whose_deadline_passed_is_DeadlineExceeded_not_Cancelled()
    {
        using var expired = new CancellationTokenSource();
        await expired.CancelAsync();
        var context = Context(_writer, DateTime.UtcNow.AddSeconds(-1), expired.Token);
        var error = await Assert.ThrowsAsync<RpcException>(() => Call(_service.Enroll, Enroll("late", 2), context));
        AssertStatus(error, StatusCode.DeadlineExceeded, "DEADLINE_EXCEEDED");
    }

    [Fact]
    public async Task Writes_cancelled_while_in_flight_end_OK_or_Cancelled_and_every_stored_face_is_found()
    {
        // Each enrolment is cancelled a little later than the previous one, so that some are cancelled
        // before submission, some between submission and commit, and some after.
        var outcomes = new Dictionary<StatusCode, int>();
        for (int i = 0; i < 40; i++)
        {
            using var cts = new CancellationTokenSource();
            var call = Call(_service.Enroll, Enroll("inflight-" + i, 100 + i), Context(_writer, ct: cts.Token));
            cts.CancelAfter(TimeSpan.FromMilliseconds(i % 8));
            StatusCode code;
            try
            {
                await call;
                code = StatusCode.OK;
            }
            catch (RpcException ex)
            {
                code = ex.StatusCode;
            }

            Assert.True(code is StatusCode.OK or StatusCode.Cancelled, $"enrolment {i} ended {code}");
            outcomes[code] = outcomes.GetValueOrDefault(code) + 1;
        }

        // A cancelled call returns while its write may still be committing (the store's directory shows
        // it before the commit publishes it to the index); an acknowledged later write orders after it.
        await Call(_service.Enroll, Enroll("inflight-barrier", 99), Context(_writer));

        // Stored ⇒ searchable: each face the store holds is found by its own vector, at distance 0.
        int stored = 0;
        for (int i = 0; i < 40; i++)
        {
            Person person;
            try
            {
                person = await Call(_service.GetPerson, new GetPersonRequest { PersonId = "inflight-" + i }, Context(_reader));
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
            {
                continue;
            }

            stored++;
            var reply = await Call(_service.Search, new SearchRequest { Vector = Vector(100 + i), TopK = 1 }, Context(_reader));
            var match = Assert.Single(Assert.Single(reply.Faces).Matches);
            Assert.Equal(person.Faces[0].FaceId, match.FaceId);
        }

        output.WriteLine($"{outcomes.GetValueOrDefault(StatusCode.OK)} acknowledged, {outcomes.GetValueOrDefault(StatusCode.Cancelled)} cancelled, {stored} stored, all found");
        Assert.True(outcomes.GetValueOrDefault(StatusCode.OK) <= stored, $"{outcomes.GetValueOrDefault(StatusCode.OK)} acknowledged but {stored} stored");
    }

    [Fact]
    public async Task Each_error_a_client_can_cause_has_its_status_and_reason()
    {
        await Call(_service.CreateCollection, new CreateCollectionRequest { Name = "statuses" }, Context(_writer));

        var cases = new (Func<Task> Call, StatusCode Code, string Reason)[]
        {
            (() => Call(_service.Enroll, new EnrollRequest { PersonId = "v", Vector = new FaceVector { Data = ByteString.CopyFrom(new byte[127]), ModelVersion = TestPaths.ModelVersion } }, Context(_writer)), StatusCode.InvalidArgument, "INVALID_VECTOR"),
            (() => Call(_service.Enroll, new EnrollRequest { PersonId = "v", Vector = new FaceVector { Data = Vector(3).Data, ModelVersion = "another-model-v2" } }, Context(_writer)), StatusCode.FailedPrecondition, "MODEL_MISMATCH"),
            (() => Call(_service.Enroll, new EnrollRequest { PersonId = "", Vector = Vector(3) }, Context(_writer)), StatusCode.InvalidArgument, "INVALID_ARGUMENT"),
            (() => Call(_service.Search, new SearchRequest { Collection = "nowhere", Vector = Vector(3) }, Context(_reader)), StatusCode.NotFound, "NOT_FOUND"),
            (() => Call(_service.CreateCollection, new CreateCollectionRequest { Name = "statuses" }, Context(_writer)), StatusCode.AlreadyExists, "ALREADY_EXISTS"),
            (() => Call(_service.DeleteCollection, new DeleteCollectionRequest { Name = "" }, Context(_writer)), StatusCode.FailedPrecondition, "DEFAULT_COLLECTION"),
            (() => Call(_service.Enroll, Enroll("reader-write", 4), Context(_reader)), StatusCode.PermissionDenied, "PERMISSION_DENIED"),
            (() => Call(_service.DeleteCollection, new DeleteCollectionRequest { Name = "statuses" }, Context(_reader)), StatusCode.PermissionDenied, "PERMISSION_DENIED"),
            (() => Call(_service.GetOperation, new GetOperationRequest { Id = "no-such-operation" }, Context(_reader)), StatusCode.NotFound, "NOT_FOUND"),
            (() => Call(_service.ListClusters, new ListClustersRequest { Collection = "statuses" }, Context(_reader)), StatusCode.NotFound, "NOT_FOUND"),
        };

        foreach (var (call, code, reason) in cases)
        {
            var error = await Assert.ThrowsAsync<RpcException>(call);
            AssertStatus(error, code, reason);
        }

        // The read-only key was refused before anything was written.
        var missing = await Assert.ThrowsAsync<RpcException>(() => Call(_service.GetPerson, new GetPersonRequest { PersonId = "reader-write" }, Context(_writer)));
        AssertStatus(missing, StatusCode.NotFound, "NOT_FOUND");
    }

    private Task<TResponse> Call<TRequest, TResponse>(Func<TRequest, ServerCallContext, Task<TResponse>> method, TRequest request, ServerCallContext context)
        where TRequest : class
        where TResponse : class =>
        _interceptor.UnaryServerHandler(request, context, (r, c) => method(r, c));

    private static ServerCallContext Context(ClaimsPrincipal user, DateTime? deadline = null, CancellationToken ct = default) =>
        new TestCallContext(new DefaultHttpContext { User = user }, deadline ?? DateTime.MaxValue, ct);

    private static EnrollRequest Enroll(string person, int seed) => new() { PersonId = person, Vector = Vector(seed) };

    private static FaceVector Vector(int seed)
    {
        var x = new float[Core.FaceVector.Dimensions];
        SyntheticFaces.BaseRow(seed, x);
        return new FaceVector { Data = ByteString.CopyFrom(Core.Quantizer.Quantize(x).ToArray()), ModelVersion = TestPaths.ModelVersion };
    }

    private static void AssertStatus(RpcException error, StatusCode code, string reason)
    {
        Assert.True(error.StatusCode == code, $"expected {code} ({reason}), got {error.StatusCode}: {error.Status.Detail}");
        Assert.Equal(reason, error.Trailers.GetValue(Errors.ReasonTrailer));
        Assert.Equal(reason, error.GetRpcStatus()?.GetDetail<Google.Rpc.ErrorInfo>()?.Reason);
        Assert.False(string.IsNullOrWhiteSpace(error.Status.Detail));
    }

    /// <summary>A call context for calling the service directly: the caller (through the HttpContext that gRPC's extension reads from the user state), cancellation and deadline.</summary>
    private sealed class TestCallContext : ServerCallContext
    {
        private readonly Dictionary<object, object> _userState = [];
        private readonly CancellationToken _ct;
        private readonly DateTime _deadline;
        private readonly Metadata _trailers = [];

        public TestCallContext(HttpContext http, DateTime deadline, CancellationToken ct)
        {
            _userState["__HttpContext"] = http;
            _ct = ct;
            _deadline = deadline;
        }

        protected override string MethodCore => "/faceindex.v1.FaceIndex/Test";

        protected override string HostCore => "localhost";

        protected override string PeerCore => "ipv4:127.0.0.1:1";

        protected override DateTime DeadlineCore => _deadline;

        protected override Metadata RequestHeadersCore { get; } = [];

        protected override CancellationToken CancellationTokenCore => _ct;

        protected override Metadata ResponseTrailersCore => _trailers;

        protected override Status StatusCore { get; set; }

        protected override WriteOptions? WriteOptionsCore { get; set; }

        protected override AuthContext AuthContextCore { get; } = new(null, []);

        protected override IDictionary<object, object> UserStateCore => _userState;

        protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) => throw new NotSupportedException();

        protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders) => Task.CompletedTask;
    }
}
