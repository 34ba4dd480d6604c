/* a header of the fixture, in sub/ only */
