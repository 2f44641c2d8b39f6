using FaceIndex.Core;

namespace FaceIndex.Vision.Internal;

/// <summary>
/// The dlib model's 128-D code: the unit embedding minus the fitted centre (<see cref="DlibSpec.Centre"/>),
/// re-normalised, then int8 ×127 as every code. No projection: the dimensions are the model's own.
/// </summary>
internal static class DlibCode
{
    /// <summary>The centred, re-normalised embedding of a unit dlib embedding.</summary>
    public static float[] Centre(ReadOnlySpan<float> unit, float[] centre)
    {
        var result = unit.ToArray();
        if (centre.Length == result.Length)
        {
            for (int i = 0; i < result.Length; i++)
            {
                result[i] -= centre[i];
            }

            VectorMath.Normalize(result);
        }

        return result;
    }
}
