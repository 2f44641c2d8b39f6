using FaceIndex.Cluster;
using FaceIndex.Core;
using FaceIndex.Engine;
using FaceIndex.Server.Internal;
using FaceIndex.Storage;
using FaceIndex.Vision;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using V1 = FaceIndex.Protocol.V1;

namespace FaceIndex.Server.Services;

/// <summary>
/// The faceindex.v1.FaceIndex service of a cluster node (<c>faceindex serve --cluster</c>): the same API
/// and auth as a single node, over <see cref="FaceCluster"/>. Writes go to the person's shard's primary,
/// searches fan out to every shard. Clustering jobs are not available in cluster mode.
/// </summary>
[BindServiceMethod(typeof(ClusterFaceIndexService), nameof(BindService))]
internal sealed class ClusterFaceIndexService(
    FaceCluster cluster,
    ServerRuntime runtime,
    Orleans.Runtime.ILocalSiloDetails node,
    IOptions<ServerOptions> options,
    IAuthorizationService authorization) : V1.FaceIndex.FaceIndexBase
{
    private readonly ServerOptions _options = options.Value;

    /// <summary>The service's descriptor, for the reflection service.</summary>
    public static Google.Protobuf.Reflection.ServiceDescriptor Descriptor => V1.FaceIndex.Descriptor;

    /// <summary>Binds the generated service's methods with request parsers that refuse malformed messages cleanly.</summary>
    public static void BindService(ServiceBinderBase binder, V1.FaceIndex.FaceIndexBase? service) =>
        V1.FaceIndex.BindService(new RequestBinder(binder), service);

    public override async Task<V1.Collection> CreateCollection(V1.CreateCollectionRequest request, ServerCallContext context)
    {
        var name = await CollectionAsync(request.Name, context, write: true).ConfigureAwait(false);
        if (request.Model.Length > 0 && request.Model != runtime.Pipeline.ModelVersion)
        {
            Errors.Throw(FaceIndexError.ModelMismatch, $"Cluster mode creates collections with the server's model '{runtime.Pipeline.ModelVersion}' only; got '{request.Model}' (other models need a single-node server for now).");
        }

        var (layout, created) = await Call(() => cluster.CreateCollectionAsync(name, runtime.Pipeline.ModelVersion, request.Shards, request.Replication, context.CancellationToken)).ConfigureAwait(false);
        if (!created)
        {
            throw Errors.Rpc(StatusCode.AlreadyExists, "ALREADY_EXISTS", $"Collection '{name}' exists already.");
        }

        return new V1.Collection { Name = layout.Name, ModelVersion = layout.ModelVersion, CreatedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(layout.CreatedAt) };
    }

    public override async Task<V1.ListCollectionsResponse> ListCollections(V1.ListCollectionsRequest request, ServerCallContext context)
    {
        var response = new V1.ListCollectionsResponse();
        foreach (var layout in await Call(cluster.ListCollectionsAsync).ConfigureAwait(false))
        {
            if (await authorization.MayReadAsync(UserOf(context), layout.Name).ConfigureAwait(false))
            {
                response.Collections.Add(new V1.Collection { Name = layout.Name, ModelVersion = layout.ModelVersion, CreatedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(layout.CreatedAt) });
            }
        }

        return response;
    }

    public override async Task<V1.DeleteCollectionResponse> DeleteCollection(V1.DeleteCollectionRequest request, ServerCallContext context)
    {
        var name = await CollectionAsync(request.Name, context, write: true).ConfigureAwait(false);
        if (!await Call(() => cluster.DeleteCollectionAsync(name)).ConfigureAwait(false))
        {
            Errors.ThrowNotFound($"Collection '{name}' does not exist.");
        }

        return new V1.DeleteCollectionResponse();
    }

    public override async Task<V1.EnrollResponse> Enroll(V1.EnrollRequest request, ServerCallContext context)
    {
        var collection = await CollectionAsync(request.Collection, context, write: true).ConfigureAwait(false);
        var personId = PersonId(request.PersonId);
        var layout = await Call(() => cluster.GetLayoutAsync(collection)).ConfigureAwait(false);
        var faces = new List<ShardNewFace>();
        byte[]? contentHash = null;
        int ignored = 0;
        switch (request.InputCase)
        {
            case V1.EnrollRequest.InputOneofCase.Vector:
                faces.Add(new ShardNewFace { Vector = ParseVector(request.Vector, layout).ToArray() });
                break;
            case V1.EnrollRequest.InputOneofCase.Image:
                RequireModel(layout);
                var found = await runtime.Pipeline.AnalyzeAsync(request.Image.Memory, context.CancellationToken).ConfigureAwait(false);
                if (found.Count == 0)
                {
                    Errors.Throw(FaceIndexError.NoFace, "No face was found in the image.");
                }

                if (request.FacePolicy == V1.FacePolicy.ExactlyOne && found.Count != 1)
                {
                    Errors.Throw(FaceIndexError.MultipleFaces, $"The image holds {found.Count} faces; the policy EXACTLY_ONE needs one.");
                }

                int take = request.FacePolicy == V1.FacePolicy.All ? found.Count : 1;
                ignored = found.Count - take;
                for (int i = 0; i < take; i++)
                {
                    var box = found[i].Box;
                    faces.Add(new ShardNewFace { Vector = found[i].Vector.ToArray(), Box = [box.X, box.Y, box.Width, box.Height], DetectionScore = found[i].Score });
                }

                contentHash = System.Security.Cryptography.SHA256.HashData(request.Image.Span);
                break;
            default:
                Errors.ThrowInvalid("An enrol request carries an image or a vector; this one has neither.");
                break;
        }

        var result = await Call(() => cluster.AddFacesAsync(collection, new ShardAddFaces
        {
            PersonId = personId,
            Faces = faces,
            ModelVersion = layout.ModelVersion,
            ContentHash = contentHash,
            Tags = Proto.Map(request.Tags),
        })).ConfigureAwait(false);
        var response = new V1.EnrollResponse { Duplicate = result.Duplicate, FacesIgnored = ignored };
        for (int i = 0; i < result.FaceIds.Count; i++)
        {
            response.Faces.Add(new V1.Face { FaceId = (ulong)result.FaceIds[i], PersonId = personId, Collection = collection, ModelVersion = layout.ModelVersion });
        }

        return response;
    }

    /// <summary>
    /// EnrollStream as on a single node (<see cref="EnrollStreams"/>): each request is an Enroll routed to
    /// its person's shard, up to <see cref="ServerOptions.EnrollStreamWindow"/> at a time, so that
    /// <c>faceindex import</c> works against a cluster.
    /// </summary>
    public override async Task EnrollStream(IAsyncStreamReader<V1.EnrollRequest> requestStream, IServerStreamWriter<V1.EnrollStreamResult> responseStream, ServerCallContext context)
    {
        await authorization.DemandAsync(UserOf(context), new CollectionScope(null), write: true).ConfigureAwait(false);
        await EnrollStreams.RunAsync(requestStream, responseStream, _options.EnrollStreamWindow, (request, _) => Enroll(request, context), context.CancellationToken).ConfigureAwait(false);
    }

    public override async Task<V1.SearchResponse> Search(V1.SearchRequest request, ServerCallContext context)
    {
        var collection = await CollectionAsync(request.Collection, context, write: false).ConfigureAwait(false);
        int topK = request.TopK == 0 ? _options.DefaultTopK : request.TopK;
        if (topK < 1 || topK > _options.MaxTopK)
        {
            Errors.ThrowInvalid($"top_k must lie in [1, {_options.MaxTopK}] (0 = {_options.DefaultTopK}); got {request.TopK}.");
        }

        if (request.Ef is < 0 or > 4096)
        {
            Errors.ThrowInvalid($"ef must lie in [0, 4096] (0 = the server's default); got {request.Ef}.");
        }

        float threshold = RequestChecks.Threshold(request.HasThreshold, request.Threshold, runtime.MatchThreshold);

        var layout = await Call(() => cluster.GetLayoutAsync(collection)).ConfigureAwait(false);
        var response = new V1.SearchResponse { Threshold = threshold };
        switch (request.InputCase)
        {
            case V1.SearchRequest.InputOneofCase.Vector:
                response.Faces.Add(await IdentifyAsync(collection, ParseVector(request.Vector, layout), topK, request.Ef, threshold).ConfigureAwait(false));
                break;
            case V1.SearchRequest.InputOneofCase.Image:
                RequireModel(layout);
                foreach (var face in await runtime.Pipeline.AnalyzeAsync(request.Image.Memory, context.CancellationToken).ConfigureAwait(false))
                {
                    var matches = await IdentifyAsync(collection, face.Vector, topK, request.Ef, threshold).ConfigureAwait(false);
                    matches.Box = Proto.Box(face.Box);
                    matches.DetectionScore = face.Score;
                    response.Faces.Add(matches);
                }

                break;
            default:
                Errors.ThrowInvalid("A search request carries an image or a vector; this one has neither.");
                break;
        }

        return response;
    }

    public override async Task<V1.Person> GetPerson(V1.GetPersonRequest request, ServerCallContext context)
    {
        var collection = await CollectionAsync(request.Collection, context, write: false).ConfigureAwait(false);
        var personId = PersonId(request.PersonId);
        var person = await Call(() => cluster.GetPersonAsync(collection, personId)).ConfigureAwait(false);
        if (person is null)
        {
            Errors.ThrowNotFound($"Person '{personId}' does not exist in collection '{collection}'.");
        }

        var response = new V1.Person { Collection = collection, PersonId = personId };
        foreach (var (key, value) in person.Metadata)
        {
            response.Metadata[key] = value;
        }

        foreach (long faceId in person.FaceIds)
        {
            response.Faces.Add(new V1.Face { FaceId = (ulong)faceId, PersonId = personId, Collection = collection });
        }

        return response;
    }

    /// <summary>Merges, replaces or removes a person's metadata keys on the person's shard; renames are refused here (a new id hashes to another shard).</summary>
    public override async Task<V1.Person> UpdatePerson(V1.UpdatePersonRequest request, ServerCallContext context)
    {
        var collection = await CollectionAsync(request.Collection, context, write: true).ConfigureAwait(false);
        var personId = PersonId(request.PersonId);
        if (request.NewPersonId.Length > 0 && !string.Equals(request.NewPersonId, personId, StringComparison.Ordinal))
        {
            throw Errors.Rpc(StatusCode.FailedPrecondition, "NOT_IN_CLUSTER_MODE", "Renaming a person is not available in cluster mode yet (the new id belongs to another shard); enrol the faces under the new id and delete the old person instead.");
        }

        var person = await Call(() => cluster.GetPersonAsync(collection, personId)).ConfigureAwait(false);
        if (person is null || !await Call(() => cluster.SetPersonMetadataAsync(collection, personId, RequestChecks.UpdatedMetadata(person.Metadata, request))).ConfigureAwait(false))
        {
            Errors.ThrowNotFound($"Person '{personId}' does not exist in collection '{collection}'.");
        }

        return await GetPerson(new V1.GetPersonRequest { Collection = collection, PersonId = personId }, context).ConfigureAwait(false);
    }

    public override Task<V1.Person> AssignFaces(V1.AssignFacesRequest request, ServerCallContext context) =>
        throw Errors.Rpc(StatusCode.FailedPrecondition, "NOT_IN_CLUSTER_MODE", "Assigning faces to another person is not available in cluster mode yet (persons live on the shard of their id); enrol the faces under that person instead.");

    public override async Task<V1.ListPersonsResponse> ListPersons(V1.ListPersonsRequest request, ServerCallContext context)
    {
        var collection = await CollectionAsync(request.Collection, context, write: false).ConfigureAwait(false);
        int size = request.PageSize == 0 ? 100 : request.PageSize;
        if (size is < 1 or > 1000)
        {
            Errors.ThrowInvalid($"The page size must be between 1 and 1000; got {request.PageSize}.");
        }

        string? after = string.IsNullOrEmpty(request.PageToken) ? null : request.PageToken;
        var persons = await Call(() => cluster.ListPersonsAsync(collection, after, size + 1)).ConfigureAwait(false);
        var response = new V1.ListPersonsResponse();
        for (int i = 0; i < Math.Min(size, persons.Count); i++)
        {
            response.Persons.Add(new V1.PersonSummary { PersonId = persons[i].PersonId, FaceCount = persons[i].FaceIds.Count });
        }

        response.NextPageToken = persons.Count > size ? persons[size - 1].PersonId : string.Empty;
        return response;
    }

    public override async Task<V1.DeleteFaceResponse> DeleteFace(V1.DeleteFaceRequest request, ServerCallContext context)
    {
        var collection = await CollectionAsync(request.Collection, context, write: true).ConfigureAwait(false);
        if (request.FaceId == 0 || request.FaceId > long.MaxValue || !await Call(() => cluster.DeleteFaceAsync(collection, (long)request.FaceId)).ConfigureAwait(false))
        {
            Errors.ThrowNotFound($"Face {request.FaceId} does not exist in collection '{collection}'.");
        }

        return new V1.DeleteFaceResponse { FaceId = request.FaceId };
    }

    public override async Task<V1.DeletePersonResponse> DeletePerson(V1.DeletePersonRequest request, ServerCallContext context)
    {
        var collection = await CollectionAsync(request.Collection, context, write: true).ConfigureAwait(false);
        var personId = PersonId(request.PersonId);
        var deleted = await Call(() => cluster.DeletePersonAsync(collection, personId)).ConfigureAwait(false);
        if (deleted is null)
        {
            Errors.ThrowNotFound($"Person '{personId}' does not exist in collection '{collection}'.");
        }

        var response = new V1.DeletePersonResponse();
        foreach (long id in deleted)
        {
            response.DeletedFaceIds.Add((ulong)id);
        }

        return response;
    }

    /// <summary>
    /// The counts of the collections the caller may see, summed over their shards (one in-sync copy of
    /// each), with the cluster's nodes and every replica: role, state, counts and lag.
    /// </summary>
    public override async Task<V1.StatsResponse> Stats(V1.StatsRequest request, ServerCallContext context)
    {
        var index = runtime.Database.IndexOptions;
        var response = new V1.StatsResponse
        {
            ModelVersion = runtime.Pipeline.ModelVersion,
            Models = { runtime.Pipeline.ModelVersion },
            ExecutionProvider = runtime.Pipeline.ExecutionProvider.ToString(),
            DefaultThreshold = runtime.MatchThreshold,
            VerifyThreshold = runtime.VerifyThreshold,
            Index = new V1.IndexParameters { M = index.M, EfConstruction = index.EfConstruction, EfSearch = index.EfSearch, ExactBelow = runtime.ExactSearchBelow },
            Cluster = new V1.ClusterStatus { Node = node.Name },
        };

        foreach (var member in await Call(cluster.GetNodesAsync).ConfigureAwait(false))
        {
            response.Cluster.Nodes.Add(new V1.ClusterNode
            {
                Name = member.Name,
                Status = member.Status,
                Address = member.Address,
                StartedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(member.StartedAt),
            });
        }

        var names = new List<string>();
        if (string.IsNullOrEmpty(request.Collection))
        {
            foreach (var layout in await Call(cluster.ListCollectionsAsync).ConfigureAwait(false))
            {
                if (await authorization.MayReadAsync(UserOf(context), layout.Name).ConfigureAwait(false))
                {
                    names.Add(layout.Name);
                }
            }
        }
        else
        {
            names.Add(await CollectionAsync(request.Collection, context, write: false).ConfigureAwait(false));
        }

        foreach (var name in names)
        {
            var replicas = await Call(() => cluster.GetStatusAsync(name)).ConfigureAwait(false);
            response.Collections++;
            foreach (var shard in replicas.GroupBy(r => r.Shard).OrderBy(g => g.Key))
            {
                // The shard's counts from its primary, or from another copy that is in sync.
                var counted = shard.FirstOrDefault(r => r.Role == "primary" && r.State == "in-sync") ?? shard.FirstOrDefault(r => r.State == "in-sync");
                if (counted is not null)
                {
                    response.Faces += counted.Faces;
                    response.Persons += counted.Persons;
                    response.IndexedFaces += counted.Indexed;
                    response.PendingFaces += counted.Pending;
                }

                foreach (var replica in shard.OrderBy(r => r.Role == "primary" ? 0 : 1).ThenBy(r => r.Node, StringComparer.Ordinal))
                {
                    response.Cluster.Replicas.Add(new V1.ShardReplica
                    {
                        Collection = name,
                        Shard = replica.Shard,
                        Node = replica.Node,
                        Role = replica.Role,
                        State = replica.State,
                        Faces = replica.Faces,
                        IndexedFaces = replica.Indexed,
                        PendingFaces = replica.Pending,
                        LagBytes = replica.Lag,
                        LogPosition = replica.LastPosition,
                        Reason = replica.Reason ?? string.Empty,
                    });
                }
            }
        }

        return response;
    }

    /// <summary>
    /// Verify as on a single node: two images compared here; an image against a person compared on the
    /// person's shard (an in-sync replica), where the person's codes are.
    /// </summary>
    public override async Task<V1.VerifyResponse> Verify(V1.VerifyRequest request, ServerCallContext context)
    {
        var collection = await CollectionAsync(request.Collection, context, write: false).ConfigureAwait(false);
        float threshold = RequestChecks.Threshold(request.HasThreshold, request.Threshold, runtime.VerifyThreshold);
        if (request.ImageA.IsEmpty)
        {
            Errors.ThrowInvalid("image_a is required.");
        }

        var response = new V1.VerifyResponse { Threshold = threshold };
        switch (request.BCase)
        {
            case V1.VerifyRequest.BOneofCase.ImageB:
                var a = await LargestFaceAsync(request.ImageA, "image_a", context.CancellationToken).ConfigureAwait(false);
                var b = await LargestFaceAsync(request.ImageB, "image_b", context.CancellationToken).ConfigureAwait(false);
                response.Distance = Similarity.Distance(a.Vector, b.Vector);
                break;
            case V1.VerifyRequest.BOneofCase.PersonId:
                var personId = PersonId(request.PersonId);
                RequireModel(await Call(() => cluster.GetLayoutAsync(collection)).ConfigureAwait(false));
                var probe = await LargestFaceAsync(request.ImageA, "image_a", context.CancellationToken).ConfigureAwait(false);
                var verdict = await Call(() => cluster.VerifyPersonAsync(collection, personId, probe.Vector)).ConfigureAwait(false);
                if (verdict is null)
                {
                    Errors.ThrowNotFound($"Person '{personId}' does not exist in collection '{collection}', or has no faces.");
                }

                response.Distance = verdict.Distance;
                response.ClosestFaceId = (ulong)verdict.ClosestFaceId;
                break;
            default:
                Errors.ThrowInvalid("A verify request needs image_b or person_id.");
                break;
        }

        return RequestChecks.Verdict(response, threshold);
    }

    /// <summary>The largest face of an image (the server's model), or NoFace naming the image.</summary>
    private async Task<DetectedFace> LargestFaceAsync(Google.Protobuf.ByteString image, string which, CancellationToken ct)
    {
        return RequestChecks.LargestFace(await runtime.Pipeline.AnalyzeAsync(image.Memory, ct).ConfigureAwait(false), which);
    }

    public override Task<V1.Operation> MigrateCollection(V1.MigrateCollectionRequest request, ServerCallContext context) =>
        throw Errors.Rpc(StatusCode.FailedPrecondition, "NOT_IN_CLUSTER_MODE", "Migrations are not available in cluster mode (a cluster's collections use the server's model); run them on a single-node server.");

    public override Task<V1.Operation> StartClustering(V1.StartClusteringRequest request, ServerCallContext context) =>
        throw Errors.Rpc(StatusCode.FailedPrecondition, "NOT_IN_CLUSTER_MODE", "Clustering jobs are not available in cluster mode; run them on a single-node server.");

    private async Task<V1.FaceMatches> IdentifyAsync(string collection, FaceVector query, int topK, int ef, float threshold)
    {
        var hits = await Call(() => cluster.SearchAsync(collection, query, topK, ef)).ConfigureAwait(false);
        var matches = new V1.FaceMatches();
        foreach (var hit in hits)
        {
            float distance = Similarity.DistanceFromDot(hit.Score);
            if (distance <= threshold)
            {
                matches.Matches.Add(new V1.Match { PersonId = hit.PersonId, FaceId = (ulong)hit.FaceId, Distance = distance, Similarity = 1 - (distance / 2) });
            }
        }

        matches.Unknown = matches.Matches.Count == 0;
        return matches;
    }

    private void RequireModel(CollectionLayout layout)
    {
        if (!string.Equals(layout.ModelVersion, runtime.Pipeline.ModelVersion, StringComparison.Ordinal))
        {
            Errors.Throw(FaceIndexError.ModelMismatch, $"Collection '{layout.Name}' holds vectors of model '{layout.ModelVersion}'; this server embeds images with '{runtime.Pipeline.ModelVersion}'.");
        }
    }

    /// <summary>The request's collection name, "default" when empty, after checking that the caller may use it (PermissionDenied).</summary>
    private async Task<string> CollectionAsync(string name, ServerCallContext context, bool write)
    {
        Validation.Length(name, "collection name", FaceStore.MaxCollectionNameBytes);
        var collection = string.IsNullOrEmpty(name) ? FaceDatabase.DefaultCollection : name;
        await authorization.DemandAsync(UserOf(context), new CollectionScope(collection), write).ConfigureAwait(false);
        return collection;
    }

    /// <summary>The caller that the authentication middleware signed in (anonymous without a key).</summary>
    private static System.Security.Claims.ClaimsPrincipal UserOf(ServerCallContext context) => context.GetHttpContext().User;

    private static string PersonId(string personId) => RequestChecks.PersonId(personId);

    /// <summary>The same checks as a single node's (<see cref="RequestChecks.Vector"/>).</summary>
    private static FaceVector ParseVector(V1.FaceVector message, CollectionLayout layout) =>
        RequestChecks.Vector(message, layout.Name, layout.ModelVersion);

    /// <summary>Runs a cluster call, turning "the cluster cannot serve this now" into Unavailable and a missing collection into NotFound.</summary>
    private static async Task<T> Call<T>(Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (ClusterUnavailableException ex)
        {
            throw Errors.Rpc(StatusCode.Unavailable, "CLUSTER_UNAVAILABLE", ex.Message);
        }
        catch (NodeUnavailableException ex)
        {
            throw Errors.Rpc(StatusCode.Unavailable, "CLUSTER_UNAVAILABLE", ex.Message);
        }
    }
}
