// The deploy artefacts are Linux ones: the image, setpriv, /proc, kubectl and docker-compose.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
