from django.contrib import admin

from .models import Gadget

admin.site.register(Gadget)
