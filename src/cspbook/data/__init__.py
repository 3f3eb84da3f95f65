"""Stage 2, data: the MPS files, from the London Datastore (CKAN, :mod:`~cspbook.data.ckan`)
or a mirror folder into the git-ignored cache, all or nothing (:mod:`~cspbook.data.fetch`),
described by the cache manifest (:mod:`~cspbook.data.manifests`), checked against it before
every use (:mod:`~cspbook.data.rawcache`), read and validated cell by cell
(:mod:`~cspbook.data.load`, :mod:`~cspbook.data.validate`)."""
