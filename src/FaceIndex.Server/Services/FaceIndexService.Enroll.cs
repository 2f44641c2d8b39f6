using System.Security.Cryptography;
using FaceIndex.Core;
using FaceIndex.Server.Internal;
using FaceIndex.Storage;
using Grpc.Core;
using V1 = FaceIndex.Protocol.V1;

namespace FaceIndex.Server.Services;

internal sealed partial class FaceIndexService
{
    public override async Task<V1.EnrollResponse> Enroll(V1.EnrollRequest request, ServerCallContext context)
    {
        var collection = await CollectionAsync(request.Collection, context, write: true).ConfigureAwait(false);
        return await EnrollAsync(collection, request, context.CancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Reads the stream and enrols up to <see cref="ServerOptions.EnrollStreamWindow"/> requests at a time
    /// (they share the store's group commits); results go back in request order, one per request. A
    /// failed item is reported in its result and does not end the stream (<see cref="EnrollStreams"/>).
    /// </summary>
    public override async Task EnrollStream(IAsyncStreamReader<V1.EnrollRequest> requestStream, IServerStreamWriter<V1.EnrollStreamResult> responseStream, ServerCallContext context)
    {
        // A key that cannot write anywhere is refused for the whole call, not item by item under an OK status.
        await authorization.DemandAsync(UserOf(context), new CollectionScope(null), write: true).ConfigureAwait(false);
        await EnrollStreams.RunAsync(
            requestStream,
            responseStream,
            _options.EnrollStreamWindow,
            async (request, ct) => await EnrollAsync(await CollectionAsync(request.Collection, context, write: true).ConfigureAwait(false), request, ct).ConfigureAwait(false),
            context.CancellationToken).ConfigureAwait(false);
    }

    private async Task<V1.EnrollResponse> EnrollAsync(string collection, V1.EnrollRequest request, CancellationToken ct)
    {
        var personId = PersonId(request.PersonId);
        if (!Enum.IsDefined(request.FacePolicy))
        {
            Errors.ThrowInvalid($"face_policy {(int)request.FacePolicy} is not a FacePolicy (0 = unspecified, 1 = largest, 2 = all, 3 = exactly one).");
        }

        var record = RequireCollection(collection);
        var tags = Proto.Map(request.Tags);
        List<NewFace> faces;
        List<Vision.DetectedFace>? chosen = null;
        List<byte[]?>? pictures = null;
        byte[]? contentHash = null;
        int ignored = 0, lowQuality = 0;
        float minimum = 0;
        switch (request.InputCase)
        {
            case V1.EnrollRequest.InputOneofCase.Image:
                contentHash = SHA256.HashData(request.Image.Span);
                if (Database.FindByContentHash(collection, personId, contentHash) is { } stored)
                {
                    return Response(stored, duplicate: true, ignored: 0);
                }

                var detected = await AnalyzeAsync(request.Image, record, ct, request.Attributes).ConfigureAwait(false);
                minimum = MinQuality(request.HasMinQuality, request.MinQuality, collection);
                if (request.FaceIndices.Count > 0)
                {
                    chosen = SelectIndices(detected, request.FaceIndices, minimum);
                    ignored = detected.Count - chosen.Count;
                }
                else
                {
                    chosen = SelectFaces(detected, request.FacePolicy, minimum, out ignored, out lowQuality);
                }

                faces = chosen.ConvertAll(f => new NewFace(f.Vector, new BoundingBox(f.Box.X, f.Box.Y, f.Box.Width, f.Box.Height), f.Score) { SecondaryVector = f.SecondaryVector });
                pictures = chosen.ConvertAll(f => f.Thumbnail);
                break;
            case V1.EnrollRequest.InputOneofCase.Vector:
                RefuseVectorForFused(record);
                faces = [new NewFace(ParseVector(request.Vector, record), null, 0f)];
                break;
            default:
                Errors.ThrowInvalid("An enrol request carries an image or a vector; this one has neither.");
                return null!;
        }

        var result = await Database.AddFacesAsync(collection, personId, faces, record.ModelVersion, contentHash, tags, ct).ConfigureAwait(false);
        if (!result.Duplicate)
        {
            metrics.Enrolled(result.Faces.Count);
            ServerTelemetry.FacesEnrolled.Add(result.Faces.Count, new KeyValuePair<string, object?>("collection", collection));
            if (pictures is not null)
            {
                await thumbnails.StoreAsync(result.Faces, pictures, ct).ConfigureAwait(false);
            }
        }

        var response = Response(result.Faces, result.Duplicate, ignored);
        response.FacesLowQuality = lowQuality;
        if (chosen is not null && !result.Duplicate)
        {
            // The stored faces come back in the order they were given.
            for (int i = 0; i < response.Faces.Count && i < chosen.Count; i++)
            {
                response.Faces[i].Quality = QualityMessage(chosen[i].Quality, minimum);
                response.Faces[i].Attributes = AttributesMessage(chosen[i].Attributes);
            }
        }

        return response;
    }

    /// <summary>
    /// The faces at the request's positions (in the detector's largest-first order, as Search lists them). A face
    /// asked for by position that is under the quality minimum is FACE_LOW_QUALITY with its position and the reasons.
    /// </summary>
    private static List<Vision.DetectedFace> SelectIndices(IReadOnlyList<Vision.DetectedFace> detected, Google.Protobuf.Collections.RepeatedField<int> indices, float minimum)
    {
        if (detected.Count == 0)
        {
            Errors.Throw(FaceIndexError.NoFace, "No face was found in the image (faces smaller than Vision:MinFaceSize pixels are not detected).");
        }

        var faces = new List<Vision.DetectedFace>(indices.Count);
        foreach (int index in indices)
        {
            if (index < 0 || index >= detected.Count)
            {
                Errors.ThrowInvalid($"face_indices holds {index}; the image has {detected.Count} face(s), numbered from 0 as Search lists them.");
            }

            var face = detected[index];
            if (face.Quality.Score < minimum)
            {
                Errors.Throw(
                    FaceIndexError.FaceLowQuality,
                    string.Create(System.Globalization.CultureInfo.InvariantCulture, $"Face {index} (box {face.Box.X:F0},{face.Box.Y:F0} {face.Box.Width:F0}×{face.Box.Height:F0}) is not good enough to enrol: {face.Quality.Explain(minimum)}. Send a sharp, frontal photo with a larger face, or lower min_quality."));
            }

            if (!faces.Contains(face))
            {
                faces.Add(detected[index]);
            }
        }

        return faces;
    }

    /// <summary>
    /// The faces that the policy enrols (faces come largest first). Under FACE_POLICY_ALL the faces under the
    /// quality minimum are left out (counted in <paramref name="lowQuality"/>); the face that LARGEST or
    /// EXACTLY_ONE picks, or every face under ALL, being under it is FACE_LOW_QUALITY with the reasons.
    /// </summary>
    private static List<Vision.DetectedFace> SelectFaces(IReadOnlyList<Vision.DetectedFace> detected, V1.FacePolicy policy, float minimum, out int ignored, out int lowQuality)
    {
        if (detected.Count == 0)
        {
            Errors.Throw(FaceIndexError.NoFace, "No face was found in the image (faces smaller than Vision:MinFaceSize pixels are not detected).");
        }

        if (policy == V1.FacePolicy.ExactlyOne && detected.Count != 1)
        {
            Errors.Throw(FaceIndexError.MultipleFaces, $"The policy FACE_POLICY_EXACTLY_ONE needs one face; the image holds {detected.Count}.");
        }

        int take = policy == V1.FacePolicy.All ? detected.Count : 1;
        ignored = detected.Count - take;
        lowQuality = 0;
        var faces = new List<Vision.DetectedFace>(take);
        for (int i = 0; i < take; i++)
        {
            if (detected[i].Quality.Score >= minimum)
            {
                faces.Add(detected[i]);
            }
            else
            {
                lowQuality++;
            }
        }

        if (faces.Count == 0)
        {
            var worst = detected[0];
            string which = take == 1 ? "The face" : $"None of the {take} faces is good enough to enrol; the largest";
            Errors.Throw(
                FaceIndexError.FaceLowQuality,
                string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{which} (box {worst.Box.X:F0},{worst.Box.Y:F0} {worst.Box.Width:F0}×{worst.Box.Height:F0}) is not good enough to enrol: {worst.Quality.Explain(minimum)}. Send a sharp, frontal photo with a larger face, or lower min_quality."));
        }

        return faces;
    }

    private static V1.EnrollResponse Response(IReadOnlyList<FaceRecord> faces, bool duplicate, int ignored)
    {
        var response = new V1.EnrollResponse { Duplicate = duplicate, FacesIgnored = ignored };
        foreach (var face in faces)
        {
            response.Faces.Add(Proto.Face(face));
        }

        return response;
    }
}
